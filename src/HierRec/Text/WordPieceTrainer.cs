namespace HierRec.Text;

/// <summary>
/// Builds a WordPiece vocabulary from a text corpus, for domains without a checkpoint: the special tokens first, then
/// every character seen (word-initial as is, word-internal with the "##" prefix), then merges of the most frequent
/// adjacent pair (weighted by word frequency) until the requested size, as the Hugging Face WordPiece trainer does.
/// </summary>
/// <remarks>Text is normalised and split exactly as <see cref="BertTokenizer"/> will split it (same options).</remarks>
public static class WordPieceTrainer
{
    /// <summary>Trains a vocabulary of at most <paramref name="vocabSize"/> tokens.</summary>
    /// <param name="corpus">Training texts.</param>
    /// <param name="vocabSize">Requested size, special tokens included.</param>
    /// <param name="options">Normalisation options (the special tokens come first, in their order).</param>
    /// <param name="minFrequency">Pairs seen fewer times than this are not merged. Default 2.</param>
    public static IReadOnlyList<string> Train(IEnumerable<string> corpus, int vocabSize, BertTokenizerOptions? options = null, int minFrequency = 2)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        options ??= new BertTokenizerOptions();
        var specials = options.AllSpecialTokens();
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, specials.Count + 1);
        // A tokenizer over only the special tokens gives access to the same normalisation and pre-tokenisation.
        var basic = BertTokenizer.Create(specials, options);
        var wordCounts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var text in corpus)
        {
            foreach (var word in basic.NormalizedWords(text ?? ""))
                wordCounts[word] = wordCounts.GetValueOrDefault(word) + 1;
        }
        var vocab = new List<string>(specials);
        var known = new HashSet<string>(vocab, StringComparer.Ordinal);
        // Words as symbol sequences; the alphabet enters the vocabulary in order of first appearance by frequency.
        var words = wordCounts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal)
            .Where(kv => kv.Key.EnumerateRunes().Count() <= options.MaxInputCharsPerWord)
            .Select(kv => (Symbols: kv.Key.EnumerateRunes().Select((r, i) => i == 0 ? r.ToString() : "##" + r).ToList(), Count: kv.Value)).ToList();
        foreach (var (symbols, _) in words)
            foreach (var s in symbols)
                if (vocab.Count < vocabSize && known.Add(s)) vocab.Add(s);
        while (vocab.Count < vocabSize)
        {
            var pairs = new Dictionary<(string, string), long>();
            foreach (var (symbols, count) in words)
                for (int i = 0; i + 1 < symbols.Count; i++)
                {
                    var key = (symbols[i], symbols[i + 1]);
                    pairs[key] = pairs.GetValueOrDefault(key) + count;
                }
            if (pairs.Count == 0) break;
            // Most frequent pair; ties broken by the merged string, so training is deterministic.
            var best = pairs.OrderByDescending(p => p.Value).ThenBy(p => p.Key.Item1 + "\u0001" + p.Key.Item2, StringComparer.Ordinal).First();
            if (best.Value < minFrequency) break;
            var (left, right) = best.Key;
            string merged = left + (right.StartsWith("##", StringComparison.Ordinal) ? right[2..] : right);
            if (known.Add(merged)) vocab.Add(merged);
            foreach (var (symbols, _) in words)
            {
                for (int i = 0; i + 1 < symbols.Count; i++)
                {
                    if (symbols[i] == left && symbols[i + 1] == right)
                    {
                        symbols[i] = merged;
                        symbols.RemoveAt(i + 1);
                    }
                }
            }
        }
        return vocab;
    }
}

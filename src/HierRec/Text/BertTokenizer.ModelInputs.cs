namespace HierRec.Text;

// BERT's model inputs on top of the Tokenizer surface: [CLS] a [SEP] (b [SEP]), token type ids, pair-aware
// truncation, padding with an attention mask, and batches.
public sealed partial class BertTokenizer
{
    /// <summary>
    /// Encodes one text, or a pair, as [CLS] a [SEP] (b [SEP]). With <paramref name="maxLength"/>, tokens are removed
    /// from the end of the longer segment, one at a time, until the whole fits (Hugging Face's longest_first); with
    /// <paramref name="padToLength"/>, [PAD] fills up to that length (type 0, attention mask 0).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxLength"/> cannot hold the special tokens.</exception>
    public TokenizedText Encode(string text, string? pair = null, int? maxLength = null, int? padToLength = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        int specials = pair is null ? 2 : 3;
        if (maxLength is int max) ArgumentOutOfRangeException.ThrowIfLessThan(max, specials, nameof(maxLength));
        var a = Ids(text);
        var b = pair is null ? null : Ids(pair);
        int keepA = a.Count, keepB = b?.Count ?? 0;
        if (maxLength is int limit)
        {
            int excess = keepA + keepB + specials - limit;
            if (excess > 0)
            {
                if (b is null) keepA -= excess;
                else
                {
                    // longest_first: the longer loses a token each round (a on ties), which evens them out first.
                    int diff = Math.Abs(keepA - keepB), first = Math.Min(excess, diff);
                    if (keepA >= keepB) keepA -= first; else keepB -= first;
                    int rest = excess - first;
                    keepA -= (rest + 1) / 2;
                    keepB -= rest / 2;
                }
            }
        }
        int length = keepA + keepB + specials;
        int total = padToLength is int pad && pad > length ? pad : length;
        var ids = new int[total];
        var types = new int[total];
        var mask = new int[total];
        int k = 0;
        ids[k++] = ClassificationTokenId;
        for (int i = 0; i < keepA; i++) ids[k++] = a[i];
        ids[k++] = SeparatorTokenId;
        if (b is not null)
        {
            int firstLength = k;
            for (int i = 0; i < keepB; i++) ids[k++] = b[i];
            ids[k++] = SeparatorTokenId;
            types.AsSpan(firstLength, k - firstLength).Fill(1);
        }
        mask.AsSpan(0, length).Fill(1);
        ids.AsSpan(length).Fill(PaddingTokenId);
        return new TokenizedText(ids, types, mask);
    }

    /// <summary>Encodes a batch, padded to the longest member (each first truncated to <paramref name="maxLength"/>).</summary>
    public TokenizedText[] EncodeBatch(IReadOnlyList<string> texts, int? maxLength = null) => EncodeBatch(texts, null, maxLength);

    /// <summary>Encodes a batch of texts, or of pairs (<paramref name="pairs"/>[i] goes with <paramref name="texts"/>[i]), padded to the longest member.</summary>
    /// <exception cref="ArgumentException">The lists differ in length, or an element is null (named by its index).</exception>
    public TokenizedText[] EncodeBatch(IReadOnlyList<string> texts, IReadOnlyList<string>? pairs, int? maxLength = null)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (pairs is not null && pairs.Count != texts.Count)
            throw new ArgumentException($"pairs has {pairs.Count} elements but texts has {texts.Count}.", nameof(pairs));
        var raw = new TokenizedText[texts.Count];
        for (int i = 0; i < raw.Length; i++)
        {
            string text = texts[i] ?? throw new ArgumentException($"texts[{i}] is null.", nameof(texts));
            string? pair = pairs is null ? null : pairs[i] ?? throw new ArgumentException($"pairs[{i}] is null.", nameof(pairs));
            raw[i] = Encode(text, pair, maxLength);
        }
        int longest = raw.Length == 0 ? 0 : raw.Max(e => e.Ids.Length);
        return raw.Select(e => Pad(e, longest)).ToArray();
    }

    /// <summary>Pads an encoding with [PAD] (type 0, mask 0) to <paramref name="length"/>; longer encodings are returned as they are.</summary>
    public TokenizedText Pad(TokenizedText encoding, int length)
    {
        ArgumentNullException.ThrowIfNull(encoding);
        int n = encoding.Ids.Length;
        if (n >= length) return encoding;
        var ids = new int[length];
        var types = new int[length];
        var mask = new int[length];
        encoding.Ids.CopyTo(ids, 0);
        encoding.TypeIds.CopyTo(types, 0);
        encoding.AttentionMask.CopyTo(mask, 0);
        ids.AsSpan(n).Fill(PaddingTokenId);
        return new TokenizedText(ids, types, mask);
    }

    /// <summary>[CLS] ids [SEP] (additional [SEP]), as Microsoft.ML.Tokenizers' <c>BertTokenizer.BuildInputsWithSpecialTokens</c>.</summary>
    public IReadOnlyList<int> BuildInputsWithSpecialTokens(IEnumerable<int> tokenIds, IEnumerable<int>? additionalTokenIds = null)
    {
        ArgumentNullException.ThrowIfNull(tokenIds);
        var ids = new List<int> { ClassificationTokenId };
        ids.AddRange(tokenIds);
        ids.Add(SeparatorTokenId);
        if (additionalTokenIds is not null)
        {
            ids.AddRange(additionalTokenIds);
            ids.Add(SeparatorTokenId);
        }
        return ids;
    }

    /// <summary>Token type ids for <see cref="BuildInputsWithSpecialTokens"/>'s output: 0 over the first segment, 1 over the second.</summary>
    public IReadOnlyList<int> CreateTokenTypeIdsFromSequences(IEnumerable<int> tokenIds, IEnumerable<int>? additionalTokenIds = null)
    {
        ArgumentNullException.ThrowIfNull(tokenIds);
        var types = Enumerable.Repeat(0, tokenIds.Count() + 2).ToList();
        if (additionalTokenIds is not null) types.AddRange(Enumerable.Repeat(1, additionalTokenIds.Count() + 1));
        return types;
    }

    private List<int> Ids(string text)
    {
        var sink = new TokenSink(false, false, int.MaxValue);
        Run(text, true, true, sink);
        return sink.Ids;
    }
}

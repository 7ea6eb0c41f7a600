using System.Buffers;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace HierRec.Text;

/// <summary>
/// BERT's tokenizer, exact to Hugging Face: a basic tokenizer (remove control characters, map whitespace to spaces,
/// isolate CJK ideographs, optional lower-casing and accent stripping, split on whitespace and punctuation) followed
/// by greedy longest-match-first WordPiece. Reproduces the Hugging Face tokenizers id for id on the committed golden
/// corpus, through this class's own BERT surface and through <see cref="Microsoft.ML.Tokenizers.Tokenizer"/>'s.
/// </summary>
/// <remarks>
/// <para>
/// It is a <see cref="Microsoft.ML.Tokenizers.Tokenizer"/>, so any code that takes one (Semantic Kernel, ML.NET) can use
/// it: <c>EncodeToIds</c>, <c>EncodeToTokens</c> (offsets into the <em>original</em> text, so
/// <c>normalizedText</c> is always null), <c>CountTokens</c>, <c>GetIndexByTokenCount</c>, <c>Decode</c>. On top it has
/// BERT's model inputs: pairs with token type ids, pair-aware truncation, padding, attention masks and batches
/// (<see cref="Encode"/>, <see cref="EncodeBatch(IReadOnlyList{string}, int?)"/>).
/// </para>
/// <para>
/// Span-based and linear in the input: special tokens are found in one pass, and a word is looked up in the
/// vocabulary without allocating. It never throws on any string (lone surrogates and noncharacters included).
/// Immutable after creation and safe for concurrent use.
/// </para>
/// </remarks>
public sealed partial class BertTokenizer : Tokenizer
{
    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _words;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _continuations;
    private readonly int _longestWord, _longestContinuation;
    private readonly string[] _tokens;
    private readonly BertTokenizerOptions _options;
    private readonly bool _clean, _cjk, _lower, _strip;
    private readonly SpecialTokenMatcher _special;
    private readonly HashSet<int> _specialIds;

    private BertTokenizer(Dictionary<string, int> vocab, string[] tokens, BertTokenizerOptions options, string sourceName)
    {
        options.Validate();
        _vocab = vocab;
        _tokens = tokens;
        _options = options;
        _clean = options.CleanText;
        _cjk = options.TokenizeChineseChars;
        _lower = options.LowerCase;
        _strip = options.StripAccents ?? options.LowerCase;
        _words = vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        string prefix = options.ContinuingSubwordPrefix;
        var continuations = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (token, id) in vocab)
        {
            _longestWord = Math.Max(_longestWord, token.Length);
            if (token.Length > prefix.Length && token.StartsWith(prefix, StringComparison.Ordinal))
            {
                continuations[token[prefix.Length..]] = id;
                _longestContinuation = Math.Max(_longestContinuation, token.Length - prefix.Length);
            }
        }
        _continuations = continuations.GetAlternateLookup<ReadOnlySpan<char>>();
        UnknownTokenId = Require(options.UnknownToken, nameof(BertTokenizerOptions.UnknownToken));
        ClassificationTokenId = Require(options.ClassificationToken, nameof(BertTokenizerOptions.ClassificationToken));
        SeparatorTokenId = Require(options.SeparatorToken, nameof(BertTokenizerOptions.SeparatorToken));
        PaddingTokenId = Require(options.PaddingToken, nameof(BertTokenizerOptions.PaddingToken));
        MaskingTokenId = Require(options.MaskingToken, nameof(BertTokenizerOptions.MaskingToken));
        var specials = options.AllSpecialTokens();
        _specialIds = [];
        foreach (var s in specials) _specialIds.Add(Require(s, nameof(BertTokenizerOptions.SpecialTokens)));
        _special = new SpecialTokenMatcher(specials.Select(s => (s, vocab[s])));

        int Require(string token, string option) => vocab.TryGetValue(token, out int id) ? id
            : throw new InvalidDataException($"{sourceName}: the special token {token} ({option}) is not in the vocabulary.");
    }

    /// <summary>The options this tokenizer was created with.</summary>
    public BertTokenizerOptions Options => _options;

    /// <summary>Reads a vocab.txt (one token per line, the line number is the id).</summary>
    /// <exception cref="InvalidDataException">A special token is missing or a token repeats, naming the file and line.</exception>
    public static BertTokenizer Create(string vocabPath, BertTokenizerOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(vocabPath);
        using var s = File.OpenRead(vocabPath);
        return Create(s, options, vocabPath);
    }

    /// <summary>Creates a tokenizer over an in-memory vocabulary (index = id), e.g. one from <see cref="WordPieceTrainer"/>.</summary>
    public static BertTokenizer Create(IReadOnlyList<string> vocabulary, BertTokenizerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        var map = new Dictionary<string, int>(vocabulary.Count, StringComparer.Ordinal);
        for (int i = 0; i < vocabulary.Count; i++)
        {
            string token = vocabulary[i] ?? throw new ArgumentException($"vocabulary[{i}] is null.", nameof(vocabulary));
            if (!map.TryAdd(token, i)) throw new ArgumentException($"vocabulary[{i}]: token '{token}' appears twice (first at {map[token]}).", nameof(vocabulary));
        }
        return new BertTokenizer(map, vocabulary.ToArray(), options ?? new BertTokenizerOptions(), "vocabulary");
    }

    /// <summary>Reads a vocab.txt from a stream; <paramref name="sourceName"/> appears in error messages.</summary>
    public static BertTokenizer Create(Stream vocab, BertTokenizerOptions? options = null, string sourceName = "vocab")
    {
        ArgumentNullException.ThrowIfNull(vocab);
        var map = new Dictionary<string, int>(StringComparer.Ordinal);
        var tokens = new List<string>();
        using var reader = new StreamReader(vocab, new UTF8Encoding(false, true));
        string? line;
        try
        {
            while ((line = reader.ReadLine()) is not null)
            {
                if (!map.TryAdd(line, tokens.Count))
                {
                    throw new InvalidDataException($"{sourceName}:{tokens.Count + 1}: token '{line}' appears twice (first at line {map[line] + 1}).");
                }
                tokens.Add(line);
            }
        }
        catch (DecoderFallbackException ex)
        {
            throw new InvalidDataException($"{sourceName}:{tokens.Count + 1}: not valid UTF-8 ({ex.Message}).", ex);
        }
        return new BertTokenizer(map, tokens.ToArray(), options ?? new BertTokenizerOptions(), sourceName);
    }

    /// <summary>Writes the vocabulary as vocab.txt (one token per line), atomically.</summary>
    public void SaveVocabulary(string path) =>
        HierRec.Serialization.AtomicFile.Write(path, s => s.Write(new UTF8Encoding(false).GetBytes(string.Join("\n", _tokens) + "\n")));

    /// <summary>Vocabulary size.</summary>
    public int VocabularySize => _tokens.Length;

    /// <summary>The unknown token ("[UNK]").</summary>
    public string UnknownToken => _options.UnknownToken;

    /// <summary>Id of <see cref="UnknownToken"/>.</summary>
    public int UnknownTokenId { get; }

    /// <summary>The classification token ("[CLS]") that starts every encoding.</summary>
    public string ClassificationToken => _options.ClassificationToken;

    /// <summary>Id of <see cref="ClassificationToken"/>.</summary>
    public int ClassificationTokenId { get; }

    /// <summary>The separator token ("[SEP]") that ends each segment.</summary>
    public string SeparatorToken => _options.SeparatorToken;

    /// <summary>Id of <see cref="SeparatorToken"/>.</summary>
    public int SeparatorTokenId { get; }

    /// <summary>The padding token ("[PAD]").</summary>
    public string PaddingToken => _options.PaddingToken;

    /// <summary>Id of <see cref="PaddingToken"/>.</summary>
    public int PaddingTokenId { get; }

    /// <summary>The masking token ("[MASK]").</summary>
    public string MaskingToken => _options.MaskingToken;

    /// <summary>Id of <see cref="MaskingToken"/>.</summary>
    public int MaskingTokenId { get; }

    /// <summary>Prefix of word-internal pieces ("##").</summary>
    public string ContinuingSubwordPrefix => _options.ContinuingSubwordPrefix;

    /// <summary>Words longer than this many code points become [UNK].</summary>
    public int MaxInputCharsPerWord => _options.MaxInputCharsPerWord;

    /// <summary>The model's maximum sequence length, when known (tokenizer_config.json's model_max_length).</summary>
    public int? ModelMaxLength => _options.ModelMaxLength;

    /// <summary>Ids of every special token (the five named ones and any additional).</summary>
    public IReadOnlySet<int> SpecialTokenIds => _specialIds;

    /// <summary>Looks up a token's id; false when it is not in the vocabulary.</summary>
    public bool TryId(string token, out int id) => _vocab.TryGetValue(token, out id);

    /// <summary>The id of <paramref name="token"/>.</summary>
    /// <exception cref="KeyNotFoundException">The token is not in the vocabulary.</exception>
    public int Id(string token) => _vocab.TryGetValue(token, out int id) ? id : throw new KeyNotFoundException($"'{token}' is not in the vocabulary.");

    /// <summary>The token of an id.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The id is outside the vocabulary.</exception>
    public string Token(int id) => (uint)id < (uint)_tokens.Length ? _tokens[id]
        : throw new ArgumentOutOfRangeException(nameof(id), id, $"Token id {id} is outside the vocabulary of {_tokens.Length} tokens.");

    /// <summary>
    /// Ids of <paramref name="text"/>, with [CLS] … [SEP] around them when <paramref name="addSpecialTokens"/>; as
    /// Microsoft.ML.Tokenizers' own <c>BertTokenizer.EncodeToIds</c>.
    /// </summary>
    public IReadOnlyList<int> EncodeToIds(string text, bool addSpecialTokens, bool considerPreTokenization = true, bool considerNormalization = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sink = new TokenSink(false, false, int.MaxValue);
        if (addSpecialTokens) sink.Ids.Add(ClassificationTokenId);
        Run(text, considerNormalization, considerPreTokenization, sink);
        if (addSpecialTokens) sink.Ids.Add(SeparatorTokenId);
        return sink.Ids;
    }

    /// <inheritdoc/>
    protected override EncodeResults<EncodedToken> EncodeToTokens(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings)
    {
        var span = text is null ? textSpan : text.AsSpan();
        var sink = new TokenSink(true, false, Budget(settings));
        Run(span, settings.ConsiderNormalization, settings.ConsiderPreTokenization, sink);
        var tokens = new List<EncodedToken>(sink.Ids.Count);
        for (int i = 0; i < sink.Ids.Count; i++)
        {
            var (start, end) = sink.Offsets![i];
            tokens.Add(new EncodedToken(sink.Ids[i], _tokens[sink.Ids[i]], new Range(start, end)));
        }
        return new EncodeResults<EncodedToken> { Tokens = tokens, NormalizedText = null, CharsConsumed = sink.Consumed };
    }

    /// <inheritdoc/>
    protected override EncodeResults<int> EncodeToIds(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings)
    {
        var span = text is null ? textSpan : text.AsSpan();
        var sink = new TokenSink(false, false, Budget(settings));
        Run(span, settings.ConsiderNormalization, settings.ConsiderPreTokenization, sink);
        return new EncodeResults<int> { Tokens = sink.Ids, NormalizedText = null, CharsConsumed = sink.Consumed };
    }

    /// <inheritdoc/>
    protected override int CountTokens(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings)
    {
        var span = text is null ? textSpan : text.AsSpan();
        var sink = new TokenSink(false, false, Budget(settings));
        Run(span, settings.ConsiderNormalization, settings.ConsiderPreTokenization, sink);
        return sink.Ids.Count;
    }

    /// <summary>
    /// The index in the original text up to which (or, <paramref name="fromEnd"/>, from which) the text encodes to at most
    /// <c>settings.MaxTokenCount</c> tokens. Words are never cut: encoding the chosen part alone gives exactly
    /// <paramref name="tokenCount"/> tokens, the same ids as in the whole text. <paramref name="normalizedText"/> is
    /// null because the index refers to the original text.
    /// </summary>
    protected override int GetIndexByTokenCount(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings, bool fromEnd,
        out string? normalizedText, out int tokenCount)
    {
        normalizedText = null;
        var span = text is null ? textSpan : text.AsSpan();
        int budget = Budget(settings);
        if (!fromEnd)
        {
            var sink = new TokenSink(false, false, budget);
            Run(span, settings.ConsiderNormalization, settings.ConsiderPreTokenization, sink);
            tokenCount = sink.Ids.Count;
            return sink.Consumed;
        }
        var all = new TokenSink(true, true, int.MaxValue);
        Run(span, settings.ConsiderNormalization, settings.ConsiderPreTokenization, all);
        if (all.Ids.Count <= budget)
        {
            tokenCount = all.Ids.Count;
            return 0;
        }
        // Whole words from the end while they fit.
        int taken = all.Ids.Count, w = all.WordStarts!.Count - 1;
        while (w >= 0 && all.Ids.Count - all.WordStarts[w] <= budget) taken = all.WordStarts[w--];
        tokenCount = all.Ids.Count - taken;
        return tokenCount == 0 ? span.Length : all.Offsets![taken].Start;
    }

    private static int Budget(EncodeSettings settings)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(settings.MaxTokenCount, 0, "maxTokenCount");
        return settings.MaxTokenCount;
    }

    /// <summary>Where tokens go while encoding: ids, and optionally their source ranges and the start of each word.</summary>
    private sealed class TokenSink(bool offsets, bool words, int budget)
    {
        public readonly List<int> Ids = [];
        public readonly List<(int Start, int End)>? Offsets = offsets ? [] : null;
        public readonly List<int>? WordStarts = words ? [] : null;
        public readonly int Budget = budget;

        /// <summary>When set, words are collected here instead of being split into pieces (vocabulary training).</summary>
        public List<string>? Words { get; init; }

        /// <summary>Characters of the input covered by the tokens kept (all of it when the budget was not reached).</summary>
        public int Consumed;
    }

    /// <summary>Finds the special tokens in one pass: leftmost first, longest first at one position.</summary>
    private sealed class SpecialTokenMatcher
    {
        private readonly SearchValues<char> _first;
        private readonly Dictionary<char, (string Token, int Id)[]> _byFirst;

        public SpecialTokenMatcher(IEnumerable<(string Token, int Id)> tokens)
        {
            _byFirst = tokens.GroupBy(t => t.Token[0]).ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Token.Length).ToArray());
            _first = SearchValues.Create(_byFirst.Keys.ToArray());
        }

        public bool FindNext(ReadOnlySpan<char> text, int from, out int at, out int length, out int id)
        {
            int i = from;
            while (i < text.Length)
            {
                int rel = text[i..].IndexOfAny(_first);
                if (rel < 0) break;
                i += rel;
                foreach (var (token, tokenId) in _byFirst[text[i]])
                {
                    if (text[i..].StartsWith(token, StringComparison.Ordinal))
                    {
                        (at, length, id) = (i, token.Length, tokenId);
                        return true;
                    }
                }
                i++;
            }
            (at, length, id) = (-1, 0, -1);
            return false;
        }
    }
}

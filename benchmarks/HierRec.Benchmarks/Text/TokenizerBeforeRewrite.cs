using System.Globalization;
using System.Text;

using HierRec.Text;

namespace HierRec.Benchmarks.Text;

/// <summary>
/// HierRec's BertTokenizer as it was at commit 39b90a0, before the span-based rewrite (issue 14), kept only so the
/// tokenizer benchmarks compare old and new side by side in one run. Not used by the library.
/// BERT's tokenizer: a basic tokenizer (remove control characters, map whitespace to spaces, isolate CJK ideographs,
/// optional lower-casing and accent stripping, split on whitespace and punctuation) followed by greedy
/// longest-match-first WordPiece with the "##" continuation prefix. Reproduces the Hugging Face tokenizers id for id
/// on the committed golden corpus.
/// </summary>
/// <remarks>Immutable after creation and safe for concurrent use.</remarks>
internal sealed class TokenizerBeforeRewrite
{
    private readonly Dictionary<string, int> _vocab;
    private readonly string[] _tokens;
    private readonly BertTokenizerOptions _options;

    /// <summary>The options this tokenizer was created with.</summary>
    public BertTokenizerOptions Options => _options;

    private TokenizerBeforeRewrite(Dictionary<string, int> vocab, string[] tokens, BertTokenizerOptions options)
    {
        _vocab = vocab;
        _tokens = tokens;
        _options = options;
        UnknownId = Id("[UNK]");
        ClsId = Id("[CLS]");
        SepId = Id("[SEP]");
        PadId = Id("[PAD]");
        MaskId = Id("[MASK]");
    }

    /// <summary>Reads a vocab.txt (one token per line, the line number is the id).</summary>
    /// <exception cref="InvalidDataException">A special token is missing or a token repeats, naming the file and line.</exception>
    public static TokenizerBeforeRewrite Create(string vocabPath, BertTokenizerOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(vocabPath);
        using var s = File.OpenRead(vocabPath);
        return Create(s, options, vocabPath);
    }

    /// <summary>Creates a tokenizer over an in-memory vocabulary (index = id), e.g. one from <see cref="WordPieceTrainer"/>.</summary>
    public static TokenizerBeforeRewrite Create(IReadOnlyList<string> vocabulary, BertTokenizerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        return Create(new MemoryStream(new UTF8Encoding(false).GetBytes(string.Join("\n", vocabulary) + "\n")), options, "vocabulary");
    }

    /// <summary>Reads a vocab.txt from a stream; <paramref name="sourceName"/> appears in error messages.</summary>
    public static TokenizerBeforeRewrite Create(Stream vocab, BertTokenizerOptions? options = null, string sourceName = "vocab")
    {
        ArgumentNullException.ThrowIfNull(vocab);
        options ??= new BertTokenizerOptions();
        var map = new Dictionary<string, int>(StringComparer.Ordinal);
        var tokens = new List<string>();
        using var reader = new StreamReader(vocab, new UTF8Encoding(false, true));
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            if (!map.TryAdd(line, tokens.Count))
            {
                throw new InvalidDataException($"{sourceName}:{tokens.Count + 1}: token '{line}' appears twice (first at line {map[line] + 1}).");
            }
            tokens.Add(line);
        }
        foreach (var special in options.SpecialTokens)
        {
            if (!map.ContainsKey(special)) throw new InvalidDataException($"{sourceName}: the special token {special} is not in the vocabulary.");
        }
        return new TokenizerBeforeRewrite(map, tokens.ToArray(), options);
    }

    /// <summary>Vocabulary size.</summary>
    public int VocabularySize => _tokens.Length;

    /// <summary>Id of [UNK].</summary>
    public int UnknownId { get; }

    /// <summary>Id of [CLS].</summary>
    public int ClsId { get; }

    /// <summary>Id of [SEP].</summary>
    public int SepId { get; }

    /// <summary>Id of [PAD].</summary>
    public int PadId { get; }

    /// <summary>Id of [MASK].</summary>
    public int MaskId { get; }

    /// <summary>Looks up a token's id; false when it is not in the vocabulary.</summary>
    public bool TryId(string token, out int id) => _vocab.TryGetValue(token, out id);

    /// <summary>The id of <paramref name="token"/>.</summary>
    /// <exception cref="KeyNotFoundException">The token is not in the vocabulary.</exception>
    public int Id(string token) => _vocab.TryGetValue(token, out int id) ? id : throw new KeyNotFoundException($"'{token}' is not in the vocabulary.");

    /// <summary>The token of an id.</summary>
    public string Token(int id) => _tokens[id];

    /// <summary>WordPiece tokens of <paramref name="text"/>, without special tokens.</summary>
    public IReadOnlyList<string> Tokenize(string text) => TokenizeToIds(text).Select(i => _tokens[i]).ToList();

    /// <summary>Ids of <paramref name="text"/>, without special tokens.</summary>
    public List<int> TokenizeToIds(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>();
        foreach (var (piece, isSpecial) in SplitSpecial(text))
        {
            if (isSpecial)
            {
                ids.Add(_vocab[piece]);
                continue;
            }
            foreach (var word in PreTokenize(Normalize(piece))) WordPiece(word, ids);
        }
        return ids;
    }

    /// <summary>
    /// Ids of <paramref name="text"/> (without special tokens) with, for each, the [start, end) range of characters of
    /// <paramref name="text"/> it came from. A word-internal piece ("##ing") covers only its own characters; an [UNK]
    /// word covers the whole word; accents removed by normalisation stay inside their letter's range.
    /// </summary>
    public List<(int Id, int Start, int End)> TokenizeWithOffsets(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var result = new List<(int, int, int)>();
        int position = 0;
        foreach (var (piece, isSpecial) in SplitSpecial(text))
        {
            if (isSpecial)
            {
                result.Add((_vocab[piece], position, position + piece.Length));
                position += piece.Length;
                continue;
            }
            var (normalized, source) = NormalizeWithMap(piece);
            foreach (var (wordStart, wordLength) in PreTokenizeSpans(normalized))
            {
                var ids = new List<int>();
                var cuts = new List<int>();
                WordPiece(normalized.Substring(wordStart, wordLength), ids, cuts);
                for (int t = 0; t < ids.Count; t++)
                {
                    int a = wordStart + cuts[t], b = wordStart + (t + 1 < cuts.Count ? cuts[t + 1] : wordLength);
                    result.Add((ids[t], position + source[a], position + SourceEnd(piece, source, b - 1)));
                }
            }
            position += piece.Length;
        }
        return result;
    }

    private static int SourceEnd(string piece, int[] source, int lastNormalizedChar)
    {
        // End of the source character (or surrogate pair) that produced the piece's last normalised character.
        int start = source[lastNormalizedChar];
        return start + (char.IsHighSurrogate(piece[start]) && start + 1 < piece.Length ? 2 : 1);
    }

    /// <summary>
    /// Encodes one text, or a pair, as [CLS] a [SEP] (b [SEP]). With <paramref name="maxLength"/>, the longer segment is
    /// truncated first until the whole fits; with <paramref name="padToLength"/>, [PAD] fills up to that length.
    /// </summary>
    public TokenizedText Encode(string text, string? pair = null, int? maxLength = null, int? padToLength = null)
    {
        var a = TokenizeToIds(text);
        var b = pair is null ? null : TokenizeToIds(pair);
        int specials = b is null ? 2 : 3;
        if (maxLength is int max)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(max, specials, nameof(maxLength));
            while (a.Count + (b?.Count ?? 0) + specials > max)
            {
                if (b is not null && b.Count > a.Count) b.RemoveAt(b.Count - 1);
                else a.RemoveAt(a.Count - 1);
            }
        }
        var ids = new List<int>(a.Count + (b?.Count ?? 0) + specials) { ClsId };
        ids.AddRange(a);
        ids.Add(SepId);
        int firstLength = ids.Count;
        if (b is not null)
        {
            ids.AddRange(b);
            ids.Add(SepId);
        }
        int length = ids.Count;
        int total = padToLength is int pad && pad > length ? pad : length;
        var idArray = new int[total];
        var types = new int[total];
        var maskArray = new int[total];
        for (int i = 0; i < total; i++)
        {
            idArray[i] = i < length ? ids[i] : PadId;
            types[i] = i >= firstLength && i < length ? 1 : 0;
            maskArray[i] = i < length ? 1 : 0;
        }
        return new TokenizedText(idArray, types, maskArray);
    }

    /// <summary>Encodes a batch, padded to the longest member (or truncated to <paramref name="maxLength"/>).</summary>
    public TokenizedText[] EncodeBatch(IReadOnlyList<string> texts, int? maxLength = null)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var raw = texts.Select(t => Encode(t, null, maxLength)).ToArray();
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
        ids.AsSpan(n).Fill(PadId);
        return new TokenizedText(ids, types, mask);
    }

    private IEnumerable<(string Piece, bool IsSpecial)> SplitSpecial(string text)
    {
        int start = 0;
        while (start < text.Length)
        {
            int best = -1;
            string? found = null;
            foreach (var s in _options.SpecialTokens)
            {
                int at = text.IndexOf(s, start, StringComparison.Ordinal);
                if (at >= 0 && (best < 0 || at < best || (at == best && s.Length > found!.Length))) { best = at; found = s; }
            }
            if (found is null)
            {
                yield return (text[start..], false);
                yield break;
            }
            if (best > start) yield return (text[start..best], false);
            yield return (found, true);
            start = best + found.Length;
        }
    }

    /// <summary>
    /// <see cref="Normalize"/> with, for every output character, the index of the source character it came from.
    /// The steps run character by character; per-character NFD equals whole-string NFD here because NFD is only
    /// applied when the combining marks it separates are removed.
    /// </summary>
    internal (string Text, int[] Source) NormalizeWithMap(string text) => NormalizeCore(text, trackSource: true);

    /// <summary>The normalisation; the source map is built only when <paramref name="trackSource"/> (it is empty otherwise).</summary>
    private (string Text, int[] Source) NormalizeCore(string text, bool trackSource)
    {
        var sb = new StringBuilder(text.Length);
        var map = new List<int>(text.Length);
        bool strip = _options.StripAccents ?? _options.LowerCase;
        int index = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            int at = index;
            index += rune.Utf16SequenceLength;
            int cp = rune.Value;
            if (cp == 0 || cp == 0xFFFD || IsControl(rune)) continue;
            string s = IsWhitespace(rune) ? " " : rune.ToString();
            if (_options.TokenizeChineseChars && s.Length == 1 && IsChineseChar(s[0])) s = " " + s + " ";
            sb.Append(s);
            if (trackSource) foreach (char _ in s) map.Add(at);
        }
        string cleaned = sb.ToString();
        var source = trackSource ? map.ToArray() : [];
        if (_options.LowerCase)
        {
            // Lower-casing keeps lengths except İ → i + U+0307; map both produced characters to the source.
            string lower = LowerCaseFull(cleaned);
            if (trackSource && lower.Length != cleaned.Length)
            {
                var m2 = new List<int>(lower.Length);
                for (int i = 0; i < cleaned.Length; i++)
                {
                    m2.Add(source[i]);
                    if (cleaned[i] == '\u0130') m2.Add(source[i]);
                }
                source = m2.ToArray();
            }
            cleaned = lower;
        }
        if (strip && !trackSource)
        {
            // Whole-string NFD, then drop the combining marks.
            var kept = new StringBuilder(cleaned.Length);
            foreach (var rune in cleaned.Normalize(NormalizationForm.FormD).EnumerateRunes())
            {
                if (Rune.GetUnicodeCategory(rune) != UnicodeCategory.NonSpacingMark) kept.Append(rune.ToString());
            }
            cleaned = kept.ToString();
        }
        else if (strip)
        {
            var kept = new StringBuilder(cleaned.Length);
            var m3 = new List<int>(cleaned.Length);
            int i = 0;
            foreach (var rune in cleaned.EnumerateRunes())
            {
                int at = source[i];
                i += rune.Utf16SequenceLength;
                foreach (var r in rune.ToString().Normalize(NormalizationForm.FormD).EnumerateRunes())
                {
                    if (Rune.GetUnicodeCategory(r) == UnicodeCategory.NonSpacingMark) continue;
                    foreach (char ch in r.ToString())
                    {
                        kept.Append(ch);
                        m3.Add(at);
                    }
                }
            }
            cleaned = kept.ToString();
            source = m3.ToArray();
        }
        return (cleaned, source);
    }

    /// <summary>Clean control characters, map whitespace to spaces, isolate CJK, then lower-case and strip accents.</summary>
    internal string Normalize(string text) => NormalizeCore(text, trackSource: false).Text;

    /// <summary>
    /// Unicode full lower-casing as JavaScript's toLowerCase does it: the invariant simple mapping, plus the two rules it
    /// lacks: U+0130 (İ) becomes "i" + U+0307, and Σ at the end of a word becomes final sigma ς.
    /// </summary>
    internal static string LowerCaseFull(string s)
    {
        if (s.IndexOf('\u0130') < 0 && s.IndexOf('\u03A3') < 0) return s.ToLowerInvariant();
        var sb = new StringBuilder(s.Length + 4);
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c == '\u0130') sb.Append("i\u0307");
            else if (c == '\u03A3') sb.Append(IsFinalSigma(s, i) ? '\u03C2' : '\u03C3');
            else sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }

    /// <summary>Unicode's Final_Sigma condition: a cased letter before (skipping case-ignorables) and none after.</summary>
    private static bool IsFinalSigma(string s, int i)
    {
        int j = i - 1;
        while (j >= 0 && IsCaseIgnorable(s[j])) j--;
        if (j < 0 || !char.IsLetter(s[j])) return false;
        int k = i + 1;
        while (k < s.Length && IsCaseIgnorable(s[k])) k++;
        return k >= s.Length || !char.IsLetter(s[k]);
    }

    private static bool IsCaseIgnorable(char c) => CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.NonSpacingMark
        or UnicodeCategory.EnclosingMark or UnicodeCategory.Format or UnicodeCategory.ModifierLetter or UnicodeCategory.ModifierSymbol
        || c is '\'' or '.' or ':' or '\u00B7' or '\u2019';

    /// <summary>As <see cref="PreTokenize"/>, as (start, length) spans of <paramref name="text"/>.</summary>
    internal static List<(int Start, int Length)> PreTokenizeSpans(string text)
    {
        var spans = new List<(int, int)>();
        int wordStart = -1, i = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            int at = i;
            i += rune.Utf16SequenceLength;
            if (IsWhitespace(rune) || IsPunctuation(rune))
            {
                if (wordStart >= 0) spans.Add((wordStart, at - wordStart));
                wordStart = -1;
                if (!IsWhitespace(rune)) spans.Add((at, rune.Utf16SequenceLength));
                continue;
            }
            if (wordStart < 0) wordStart = at;
        }
        if (wordStart >= 0) spans.Add((wordStart, i - wordStart));
        return spans;
    }

    /// <summary>Words and single punctuation marks, split on whitespace.</summary>
    internal static List<string> PreTokenize(string text)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        foreach (var rune in text.Trim().EnumerateRunes())
        {
            if (IsWhitespace(rune))
            {
                Flush();
                continue;
            }
            if (IsPunctuation(rune))
            {
                Flush();
                words.Add(rune.ToString());
                continue;
            }
            current.Append(rune.ToString());
        }
        Flush();
        return words;

        void Flush()
        {
            if (current.Length == 0) return;
            words.Add(current.ToString());
            current.Clear();
        }
    }

    private void WordPiece(string word, List<int> output, List<int>? cuts = null)
    {
        var runes = word.EnumerateRunes().Select(r => r.ToString()).ToArray();
        if (runes.Length > _options.MaxInputCharsPerWord)
        {
            output.Add(UnknownId);
            cuts?.Add(0);
            return;
        }
        var pieces = new List<int>();
        int start = 0;
        while (start < runes.Length)
        {
            int end = runes.Length, found = -1;
            while (start < end)
            {
                string sub = string.Concat(runes[start..end]);
                if (start > 0) sub = "##" + sub;
                if (_vocab.TryGetValue(sub, out int id))
                {
                    found = id;
                    break;
                }
                end--;
            }
            if (found < 0)
            {
                // The whole word becomes [UNK]: drop the cuts of pieces matched before the failure.
                output.Add(UnknownId);
                cuts?.Clear();
                cuts?.Add(0);
                return;
            }
            pieces.Add(found);
            cuts?.Add(string.Concat(runes[..start]).Length);
            start = end;
        }
        output.AddRange(pieces);
    }

    private static bool IsControl(Rune r)
    {
        if (r.Value is '\t' or '\n' or '\r') return false;
        var c = Rune.GetUnicodeCategory(r);
        return c is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.PrivateUse or UnicodeCategory.Surrogate;
    }

    /// <summary>JavaScript's \s: Unicode space separators plus the ASCII/Unicode whitespace controls and BOM.</summary>
    private static bool IsWhitespace(Rune r) => r.Value switch
    {
        '\t' or '\n' or '\v' or '\f' or '\r' or ' ' or '\u00a0' or '\u1680' or '\u2028' or '\u2029' or '\u202f' or '\u205f' or '\u3000' or '\ufeff' => true,
        >= 0x2000 and <= 0x200a => true,
        _ => false,
    };

    private static bool IsPunctuation(Rune r)
    {
        int cp = r.Value;
        if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) return true;
        return Rune.GetUnicodeCategory(r) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
            or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;
    }

    private static bool IsChineseChar(int cp) =>
        (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F)
        || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

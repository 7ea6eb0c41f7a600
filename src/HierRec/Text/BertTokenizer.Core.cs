using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace HierRec.Text;

// The tokenizer's engine: special-token split, normalisation, pre-tokenisation and WordPiece, over spans, writing ids
// (and source offsets) into a TokenSink. Every step keeps, for each character it produces, the index of the input
// character it came from, so offsets always refer to the original text.
public sealed partial class BertTokenizer
{
    /// <summary>Encodes <paramref name="text"/> into the sink; stops early at the sink's budget, never cutting a word.</summary>
    private void Run(ReadOnlySpan<char> text, bool normalize, bool preTokenize, TokenSink sink)
    {
        int position = 0;
        while (position < text.Length)
        {
            bool found = _special.FindNext(text, position, out int at, out int length, out int id);
            int segmentEnd = found ? at : text.Length;
            if (segmentEnd > position && !EncodeSegment(text, position, segmentEnd, normalize, preTokenize, sink)) return;
            if (!found) break;
            if (sink.Ids.Count + 1 > sink.Budget) return;
            sink.WordStarts?.Add(sink.Ids.Count);
            sink.Ids.Add(id);
            sink.Offsets?.Add((at, at + length));
            sink.Consumed = at + length;
            position = at + length;
        }
        sink.Consumed = text.Length;
    }

    /// <summary>Normalises text[start..end), splits it into words and runs WordPiece on each; false when the budget stopped it.</summary>
    private bool EncodeSegment(ReadOnlySpan<char> text, int start, int end, bool normalize, bool preTokenize, TokenSink sink)
    {
        int n = end - start;
        char[]? chars1 = null, chars2 = null;
        int[]? map1 = null, map2 = null;
        try
        {
            if (!normalize)
            {
                map1 = ArrayPool<int>.Shared.Rent(n);
                for (int i = 0; i < n; i++) map1[i] = start + i;
                return Words(text, text[start..end], map1.AsSpan(0, n), preTokenize, sink);
            }
            // Cleaning never grows text by more than 3× (an ideograph gains a space on each side).
            chars1 = ArrayPool<char>.Shared.Rent(3 * n);
            map1 = ArrayPool<int>.Shared.Rent(3 * n);
            int length = Clean(text, start, end, chars1, map1);
            if (!_lower && !_strip) return Words(text, chars1.AsSpan(0, length), map1.AsSpan(0, length), preTokenize, sink);
            // A code point lower-cases to at most 3 and decomposes (NFD) to at most 4 UTF-16 units per input unit here.
            chars2 = ArrayPool<char>.Shared.Rent(4 * length + 4);
            map2 = ArrayPool<int>.Shared.Rent(4 * length + 4);
            int length2 = LowerAndStrip(chars1.AsSpan(0, length), map1.AsSpan(0, length), chars2, map2);
            return Words(text, chars2.AsSpan(0, length2), map2.AsSpan(0, length2), preTokenize, sink);
        }
        finally
        {
            if (chars1 is not null) ArrayPool<char>.Shared.Return(chars1);
            if (chars2 is not null) ArrayPool<char>.Shared.Return(chars2);
            if (map1 is not null) ArrayPool<int>.Shared.Return(map1);
            if (map2 is not null) ArrayPool<int>.Shared.Return(map2);
        }
    }

    /// <summary>Hugging Face's clean_text and handle_chinese_chars: drop controls, whitespace to ' ', spaces around ideographs.</summary>
    private int Clean(ReadOnlySpan<char> text, int start, int end, Span<char> output, Span<int> map)
    {
        int k = 0;
        for (int i = start; i < end; i++)
        {
            char c = text[i];
            if (c < 0x80)
            {
                if (_clean && (c < 0x20 || c == 0x7F))
                {
                    // \t \n \r are whitespace; every other ASCII control (NUL, \v, \f, DEL …) is removed.
                    if (c is not ('\t' or '\n' or '\r')) continue;
                    c = ' ';
                }
                output[k] = c;
                map[k++] = i;
                continue;
            }
            int units = 1;
            int cp = c;
            if (char.IsHighSurrogate(c) && i + 1 < end && char.IsLowSurrogate(text[i + 1]))
            {
                cp = char.ConvertToUtf32(c, text[i + 1]);
                units = 2;
            }
            else if (char.IsSurrogate(c))
            {
                // A lone surrogate is no character at all: cleaning removes it (category Cs); without cleaning it stays as it is.
                if (_clean) continue;
                output[k] = c;
                map[k++] = i;
                continue;
            }
            var rune = new Rune(cp);
            if (_clean)
            {
                if (cp == 0xFFFD || IsControl(rune))
                {
                    i += units - 1;
                    continue;
                }
                if (IsWhitespace(cp))
                {
                    output[k] = ' ';
                    map[k++] = i;
                    i += units - 1;
                    continue;
                }
            }
            bool isolate = _cjk && IsChineseChar(cp);
            if (isolate)
            {
                output[k] = ' ';
                map[k++] = i;
            }
            output[k] = c;
            map[k++] = i;
            if (units == 2)
            {
                output[k] = text[i + 1];
                map[k++] = i;
            }
            if (isolate)
            {
                output[k] = ' ';
                map[k++] = i;
            }
            i += units - 1;
        }
        return k;
    }

    /// <summary>Lower-casing (Unicode full lower-casing as JavaScript does it) and accent stripping (NFD, then drop Mn).</summary>
    private int LowerAndStrip(ReadOnlySpan<char> text, ReadOnlySpan<int> source, Span<char> output, Span<int> map)
    {
        int k = 0;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            int at = source[i];
            if (c < 0x80)
            {
                output[k] = _lower && (uint)(c - 'A') <= 'Z' - 'A' ? (char)(c | 0x20) : c;
                map[k++] = at;
                continue;
            }
            int units = 1;
            Rune rune;
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                rune = new Rune(c, text[i + 1]);
                units = 2;
            }
            else if (char.IsSurrogate(c))
            {
                output[k] = c;
                map[k++] = at;
                continue;
            }
            else rune = new Rune(c);
            i += units - 1;
            if (_lower)
            {
                if (rune.Value == 0x130)
                {
                    // İ lower-cases to i + U+0307 (a non-spacing mark, which accent stripping removes).
                    output[k] = 'i';
                    map[k++] = at;
                    if (!_strip)
                    {
                        output[k] = '\u0307';
                        map[k++] = at;
                    }
                    continue;
                }
                rune = rune.Value == 0x3A3 ? new Rune(IsFinalSigma(text, i) ? '\u03C2' : '\u03C3') : Rune.ToLowerInvariant(rune);
            }
            if (_strip)
            {
                foreach (char ch in Stripped(rune))
                {
                    output[k] = ch;
                    map[k++] = at;
                }
            }
            else
            {
                int written = rune.EncodeToUtf16(output[k..]);
                for (int w = 0; w < written; w++) map[k++] = at;
            }
        }
        return k;
    }

    /// <summary>Splits the normalised text into words (whitespace, and punctuation when pre-tokenising) and runs WordPiece on each.</summary>
    private bool Words(ReadOnlySpan<char> original, ReadOnlySpan<char> text, ReadOnlySpan<int> source, bool preTokenize, TokenSink sink)
    {
        int wordStart = -1, i = 0;
        while (i < text.Length)
        {
            char c = text[i];
            int units = 1;
            bool space, punctuation;
            if (c < 0x80)
            {
                space = s_asciiSpace[c];
                punctuation = s_asciiPunctuation[c];
            }
            else if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                units = 2;
                space = false;
                punctuation = IsPunctuation(char.ConvertToUtf32(c, text[i + 1]));
            }
            else
            {
                space = IsWhitespace(c);
                punctuation = !char.IsSurrogate(c) && IsPunctuation(c);
            }
            if (space || (preTokenize && punctuation))
            {
                if (wordStart >= 0 && !WordPiece(original, text[wordStart..i], source[wordStart..i], sink)) return false;
                wordStart = -1;
                if (!space && !WordPiece(original, text.Slice(i, units), source.Slice(i, units), sink)) return false;
            }
            else if (wordStart < 0) wordStart = i;
            i += units;
        }
        return wordStart < 0 || WordPiece(original, text[wordStart..], source[wordStart..], sink);
    }

    /// <summary>Greedy longest-match-first WordPiece of one word; a word with an unmatchable rest becomes one [UNK].</summary>
    private bool WordPiece(ReadOnlySpan<char> original, ReadOnlySpan<char> word, ReadOnlySpan<int> source, TokenSink sink)
    {
        if (sink.Words is not null)
        {
            sink.Words.Add(word.ToString());
            return true;
        }
        int before = sink.Ids.Count;
        sink.WordStarts?.Add(before);
        if (word.Length > _options.MaxInputCharsPerWord && CountRunes(word) > _options.MaxInputCharsPerWord)
            return Unknown(original, source, sink, before);
        int start = 0;
        while (start < word.Length)
        {
            int end = Math.Min(word.Length, start + (start == 0 ? _longestWord : _longestContinuation));
            if (end < word.Length && end > start && char.IsLowSurrogate(word[end]) && char.IsHighSurrogate(word[end - 1])) end--;
            int id = -1;
            while (end > start)
            {
                if (start == 0 ? _words.TryGetValue(word[..end], out id) : _continuations.TryGetValue(word[start..end], out id)) break;
                id = -1;
                end -= end - start >= 2 && char.IsLowSurrogate(word[end - 1]) && char.IsHighSurrogate(word[end - 2]) ? 2 : 1;
            }
            if (id < 0) return Unknown(original, source, sink, before);
            sink.Ids.Add(id);
            sink.Offsets?.Add((source[start], SourceEnd(original, source[end - 1])));
            start = end;
        }
        return Keep(sink, before, SourceEnd(original, source[^1]));
    }

    private bool Unknown(ReadOnlySpan<char> original, ReadOnlySpan<int> source, TokenSink sink, int before)
    {
        Truncate(sink, before);
        sink.Ids.Add(UnknownTokenId);
        sink.Offsets?.Add((source[0], SourceEnd(original, source[^1])));
        return Keep(sink, before, SourceEnd(original, source[^1]));
    }

    /// <summary>Keeps the word's tokens if they fit the budget; otherwise removes them and reports the stop.</summary>
    private static bool Keep(TokenSink sink, int before, int end)
    {
        if (sink.Ids.Count > sink.Budget)
        {
            Truncate(sink, before);
            sink.WordStarts?.RemoveAt(sink.WordStarts.Count - 1);
            return false;
        }
        sink.Consumed = end;
        return true;
    }

    private static void Truncate(TokenSink sink, int count)
    {
        sink.Ids.RemoveRange(count, sink.Ids.Count - count);
        sink.Offsets?.RemoveRange(count, sink.Offsets.Count - count);
    }

    /// <summary>End of the source character (or surrogate pair) at <paramref name="index"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int SourceEnd(ReadOnlySpan<char> original, int index) =>
        index + (char.IsHighSurrogate(original[index]) && index + 1 < original.Length && char.IsLowSurrogate(original[index + 1]) ? 2 : 1);

    private static int CountRunes(ReadOnlySpan<char> word)
    {
        int n = word.Length;
        for (int i = 1; i < word.Length; i++)
            if (char.IsLowSurrogate(word[i]) && char.IsHighSurrogate(word[i - 1])) n--;
        return n;
    }

    /// <summary>Unicode's Final_Sigma condition on the cleaned text: a cased letter before (skipping case-ignorables) and none after.</summary>
    private static bool IsFinalSigma(ReadOnlySpan<char> s, int i)
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

    /// <summary>A code point with its accents removed: canonical decomposition without the non-spacing marks.</summary>
    private static string Stripped(Rune rune)
    {
        int cp = rune.Value;
        if (cp < s_strippedTable.Length) return s_strippedTable[cp];
        return s_stripped.GetOrAdd(cp, static v => ComputeStripped(new Rune(v)));
    }

    private static readonly string[] s_strippedTable = Enumerable.Range(0, 0x2000).Select(cp =>
        Rune.IsValid(cp) ? ComputeStripped(new Rune(cp)) : ((char)cp).ToString()).ToArray();

    private static readonly ConcurrentDictionary<int, string> s_stripped = new();

    private static string ComputeStripped(Rune rune)
    {
        string s = rune.ToString();
        string decomposed;
        try
        {
            decomposed = s.Normalize(NormalizationForm.FormD);
        }
        catch (ArgumentException)
        {
            // String.Normalize refuses a few code points (noncharacters); they have no decomposition anyway.
            decomposed = s;
        }
        var kept = new StringBuilder(decomposed.Length);
        foreach (var r in decomposed.EnumerateRunes())
            if (Rune.GetUnicodeCategory(r) != UnicodeCategory.NonSpacingMark) kept.Append(r.ToString());
        return kept.ToString();
    }

    /// <summary>Hugging Face's is_control: categories Cc, Cf, Co, Cs and Cn, except \t \n \r.</summary>
    private static bool IsControl(Rune r)
    {
        if (r.Value is '\t' or '\n' or '\r') return false;
        return Rune.GetUnicodeCategory(r) is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.PrivateUse
            or UnicodeCategory.Surrogate or UnicodeCategory.OtherNotAssigned;
    }

    /// <summary>JavaScript's \s: Unicode space separators plus the ASCII/Unicode whitespace controls and BOM.</summary>
    private static bool IsWhitespace(int cp) => cp switch
    {
        '\t' or '\n' or '\v' or '\f' or '\r' or ' ' or '\u00a0' or '\u1680' or '\u2028' or '\u2029' or '\u202f' or '\u205f' or '\u3000' or '\ufeff' => true,
        >= 0x2000 and <= 0x200a => true,
        _ => false,
    };

    private static bool IsPunctuation(int cp)
    {
        if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) return true;
        if (cp < 0x80) return false;
        return Rune.GetUnicodeCategory(new Rune(cp)) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
            or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;
    }

    private static bool IsChineseChar(int cp) =>
        (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F)
        || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);

    private static readonly bool[] s_asciiSpace = Enumerable.Range(0, 128).Select(c => IsWhitespace(c)).ToArray();
    private static readonly bool[] s_asciiPunctuation = Enumerable.Range(0, 128).Select(c => IsPunctuation(c)).ToArray();

    /// <summary>
    /// Normalised, pre-tokenised words as <see cref="WordPieceTrainer"/> needs them: the encoding path itself, with the
    /// sink collecting each word instead of running WordPiece on it (special tokens are left out).
    /// </summary>
    internal IReadOnlyList<string> NormalizedWords(string text)
    {
        var sink = new TokenSink(false, false, int.MaxValue) { Words = [] };
        Run(text, true, true, sink);
        return sink.Words;
    }
}

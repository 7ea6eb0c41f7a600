using System.Globalization;
using HierRec.Text;
using EncodedToken = Microsoft.ML.Tokenizers.EncodedToken;

namespace HierRec.Concepts;

/// <summary>
/// Token attention weights turned into weights of the description's own words: WordPiece pieces (<c>##</c>) are merged
/// back into the word they came from, a run of adjacent CJK characters (a Chinese phrase, which has no spaces) is one
/// unit, the text shown is the original text (its case and accents), and punctuation, symbols and special tokens are
/// left out. Weights are summed over a word's pieces.
/// </summary>
internal static class DescriptionWords
{
    public static IReadOnlyList<TokenWeight> Merge(BertTokenizer tokenizer, string text, int[] ids, ReadOnlySpan<float> weights)
    {
        var tokens = tokenizer.EncodeToTokens(text, out _);
        string prefix = tokenizer.Options.ContinuingSubwordPrefix;
        var units = new List<(int Start, int End, double Weight, bool Cjk)>();
        int k = 0;
        for (int j = 0; j < ids.Length; j++)
        {
            int id = ids[j];
            if (id == tokenizer.ClassificationTokenId || id == tokenizer.SeparatorTokenId || id == tokenizer.PaddingTokenId || id == tokenizer.MaskingTokenId) continue;
            if (k >= tokens.Count || tokens[k].Id != id) return Fallback(tokenizer, ids, weights, prefix); // not aligned: show the pieces, cleaned
            Add(units, tokens[k++], text, prefix, weights[j]);
        }
        return Shown(units, text).Select(u => new TokenWeight(text[u.Start..u.End], u.Weight)).ToArray();
    }

    /// <summary>
    /// The words of <paramref name="text"/> as <see cref="Merge"/> shows them (pieces merged, a Chinese phrase one unit,
    /// punctuation left out), over the whole text rather than the encoder's first tokens.
    /// </summary>
    public static IReadOnlyList<string> Words(BertTokenizer tokenizer, string text)
    {
        string prefix = tokenizer.Options.ContinuingSubwordPrefix;
        var units = new List<(int Start, int End, double Weight, bool Cjk)>();
        foreach (var token in tokenizer.EncodeToTokens(text, out _)) Add(units, token, text, prefix, 0);
        return Shown(units, text).Select(u => text[u.Start..u.End]).ToArray();
    }

    /// <summary>The units a reader sees: hyphenated words joined, empty and punctuation-only units left out.</summary>
    private static IEnumerable<(int Start, int End, double Weight, bool Cjk)> Shown(List<(int Start, int End, double Weight, bool Cjk)> units, string text) =>
        Joined(units, text).Where(u => u.End > u.Start && !OnlyPunctuation(text.AsSpan(u.Start, u.End - u.Start)));

    /// <summary>
    /// Words joined by a hyphen or an apostrophe with no space around it ("Film-Noir", "Sci-Fi", "Children's") made one
    /// word again, as written: BERT splits them at the punctuation, and "Film" alone is not what the user asked for.
    /// </summary>
    private static List<(int Start, int End, double Weight, bool Cjk)> Joined(List<(int Start, int End, double Weight, bool Cjk)> units, string text)
    {
        var joined = new List<(int Start, int End, double Weight, bool Cjk)>(units.Count);
        for (int j = 0; j < units.Count; j++)
        {
            var u = units[j];
            if (joined.Count > 0 && j + 1 < units.Count && u.End - u.Start == 1 && IsJoiner(text[u.Start]))
            {
                var (before, after) = (joined[^1], units[j + 1]);
                if (before.End == u.Start && after.Start == u.End && !before.Cjk && !after.Cjk
                    && !OnlyPunctuation(text.AsSpan(before.Start, before.End - before.Start)) && !OnlyPunctuation(text.AsSpan(after.Start, after.End - after.Start)))
                {
                    joined[^1] = (before.Start, after.End, before.Weight + u.Weight + after.Weight, false);
                    j++;
                    continue;
                }
            }
            joined.Add(u);
        }
        return joined;
    }

    private static bool IsJoiner(char c) => c is '-' or '\'' or '\u2019' or '\u2010' or '\u2011';

    /// <summary>Appends a token to the last unit when it continues it (a ## piece, or a CJK character right after CJK), else as a new unit.</summary>
    private static void Add(List<(int Start, int End, double Weight, bool Cjk)> units, EncodedToken token, string text, string prefix, double weight)
    {
        var (start, length) = token.Offset.GetOffsetAndLength(text.Length);
        bool continuation = prefix.Length > 0 && token.Value.StartsWith(prefix, StringComparison.Ordinal);
        bool cjk = length > 0 && IsCjk(text, start);
        if (units.Count > 0 && (continuation || cjk && units[^1].Cjk && units[^1].End == start))
            units[^1] = (units[^1].Start, start + length, units[^1].Weight + weight, cjk);
        else units.Add((start, start + length, weight, cjk));
    }

    private static IReadOnlyList<TokenWeight> Fallback(BertTokenizer tokenizer, int[] ids, ReadOnlySpan<float> weights, string prefix)
    {
        var words = new List<(string Word, double Weight)>();
        var specials = tokenizer.SpecialTokenIds;
        for (int j = 0; j < ids.Length; j++)
        {
            if (specials.Contains(ids[j])) continue;
            string piece = tokenizer.Token(ids[j]);
            if (prefix.Length > 0 && piece.StartsWith(prefix, StringComparison.Ordinal) && words.Count > 0)
                words[^1] = (words[^1].Word + piece[prefix.Length..], words[^1].Weight + weights[j]);
            else words.Add((piece, weights[j]));
        }
        return words.Where(w => !OnlyPunctuation(w.Word)).Select(w => new TokenWeight(w.Word, w.Weight)).ToArray();
    }

    private static bool OnlyPunctuation(ReadOnlySpan<char> word)
    {
        foreach (char c in word)
        {
            var category = char.GetUnicodeCategory(c);
            if (!char.IsPunctuation(c) && !char.IsSymbol(c) && !char.IsWhiteSpace(c) && category != UnicodeCategory.Format) return false;
        }
        return true;
    }

    private static bool IsCjk(string text, int at)
    {
        int cp = char.IsHighSurrogate(text[at]) && at + 1 < text.Length && char.IsLowSurrogate(text[at + 1]) ? char.ConvertToUtf32(text[at], text[at + 1]) : text[at];
        return cp is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2A6DF or >= 0xF900 and <= 0xFAFF or >= 0x2F800 and <= 0x2FA1F;
    }
}

using System.Globalization;
using System.Text;
using System.Text.Json;

namespace HierRec.Concepts;

/// <summary>
/// The words of the catalogue's item texts, as an index from word to items, for the negative filter's lexical guard:
/// a description that rejects "romance" also removes every item whose own text says "romance", whatever the concept
/// similarity says. Words are letters-only runs of at least 3, lower-cased, accents stripped, a plural "s" / "ies"
/// reduced; words in more than 30 % of the item texts (the genre words of a one-genre catalogue, "the", "film") are
/// too common to mean a rejection and are left out. Scripts without spaces (Chinese) are not indexed: a Chinese
/// description reaches the words of a catalogue through <see cref="ConceptCues.Glossary"/>, and beyond it the concept
/// similarity alone filters.
/// </summary>
public sealed class ItemWords
{
    private const double MaxShare = 0.3;
    private readonly Dictionary<string, int[]> _items;

    private ItemWords(Dictionary<string, int[]> items) => _items = items;

    /// <summary>Indexes <paramref name="texts"/> (one per item, null or empty for none).</summary>
    public static ItemWords FromTexts(IReadOnlyList<string?> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var index = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (int i = 0; i < texts.Count; i++)
            foreach (var word in Words(texts[i]).Distinct())
            {
                if (!index.TryGetValue(word, out var list)) index[word] = list = [];
                list.Add(i);
            }
        int limit = Math.Max(1, (int)(MaxShare * texts.Count));
        return new ItemWords(index.Where(p => p.Value.Count <= limit).ToDictionary(p => p.Key, p => p.Value.ToArray(), StringComparer.Ordinal));
    }

    /// <summary>Items whose text contains any of the words of <paramref name="text"/> (after the same normalisation).</summary>
    public IReadOnlyCollection<int> Mentioning(string text)
    {
        var result = new HashSet<int>();
        foreach (var word in Words(text))
            if (_items.TryGetValue(word, out var items)) result.UnionWith(items);
        return result;
    }

    /// <summary>Indexed words.</summary>
    public int Count => _items.Count;

    internal static IEnumerable<string> Words(string? text)
    {
        if (string.IsNullOrEmpty(text)) yield break;
        var sb = new StringBuilder();
        foreach (char c in Decomposed(text + " "))
        {
            var category = CharUnicodeInfo.GetUnicodeCategory(c);
            if (category == UnicodeCategory.NonSpacingMark) continue;
            if (c < 0x3000 && char.IsLetter(c)) { sb.Append(char.ToLowerInvariant(c)); continue; }
            if (sb.Length >= 3) yield return Stem(sb.ToString());
            sb.Clear();
        }
    }

    /// <summary>
    /// NFD of <paramref name="text"/>; code points Normalize refuses (U+FFFE, lone surrogates) become spaces first, as
    /// the tokenizer treats them: a hostile description must not fail a request.
    /// </summary>
    private static string Decomposed(string text)
    {
        try
        {
            return text.Normalize(NormalizationForm.FormD);
        }
        catch (ArgumentException)
        {
            var sb = new StringBuilder(text.Length);
            for (int i = 0; i < text.Length; i++)
            {
                char c = text[i];
                if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) { sb.Append(c).Append(text[++i]); continue; }
                bool bad = char.IsSurrogate(c) || c is '\uFFFE' or '\uFFFF' || c >= '\uFDD0' && c <= '\uFDEF';
                sb.Append(bad ? ' ' : c);
            }
            try
            {
                return sb.ToString().Normalize(NormalizationForm.FormD);
            }
            catch (ArgumentException)
            {
                return sb.ToString(); // words still split on letters; accents kept
            }
        }
    }

    private static string Stem(string word) =>
        word.Length > 4 && word.EndsWith("ies", StringComparison.Ordinal) ? word[..^3] + "y"
        : word.Length > 3 && word.EndsWith('s') && !word.EndsWith("ss", StringComparison.Ordinal) ? word[..^1]
        : word;

    internal void Save(string path)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(_items);
        Serialization.AtomicFile.Write(path, s => s.Write(bytes));
    }

    internal static ItemWords Load(string path, int itemCount)
    {
        Dictionary<string, int[]>? items;
        try
        {
            items = JsonSerializer.Deserialize<Dictionary<string, int[]>>(File.ReadAllBytes(path));
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path}: not valid ({ex.Message}).", ex);
        }
        if (items is null) throw new InvalidDataException($"{path}: empty.");
        foreach (var (word, list) in items)
        {
            if (list is null) throw new InvalidDataException($"{path}: '{word}' has no item list.");
            foreach (int i in list) if ((uint)i >= (uint)itemCount) throw new InvalidDataException($"{path}: '{word}' lists item {i}, outside the {itemCount} items.");
        }
        return new ItemWords(new Dictionary<string, int[]>(items, StringComparer.Ordinal));
    }
}

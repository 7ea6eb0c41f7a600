using System.Globalization;
using System.Text;
using System.Text.Json;
using HierRec.Text;
using Microsoft.ML.Tokenizers;
using MLBertTokenizer = Microsoft.ML.Tokenizers.BertTokenizer;

namespace HierRec.Benchmarks.Text;

/// <summary>
/// <c>-- tokenizer-exactness</c>: lines of the committed golden corpus (tests/HierRec.Tests/Text/Golden) whose ids
/// match Hugging Face's, for HierRec's tokenizer (its own surface and the Tokenizer surface) and for
/// Microsoft.ML.Tokenizers' BertTokenizer (as a new user configures it, and with accent stripping turned on), with the
/// kinds of divergence found in the mismatching words.
/// </summary>
public static class TokenizerExactness
{
    public static void Run(TextWriter output)
    {
        string golden = Path.GetFullPath(Path.Combine("tests", "HierRec.Tests", "Text", "Golden"));
        var corpus = JsonDocument.Parse(File.ReadAllText(Path.Combine(golden, "tokenizer_corpus.json"))).RootElement.GetProperty("texts").EnumerateArray().Select(e => e.GetString()!).ToArray();
        var reference = JsonDocument.Parse(File.ReadAllText(Path.Combine(golden, "tokenizer_golden.json"))).RootElement.GetProperty("vocabularies");
        string models = TokenizerBenchmarks.ModelsFolder();
        output.WriteLine($"{corpus.Length} corpus lines (+ pairs), vocabularies from {models}");
        output.WriteLine();
        output.WriteLine("| Vocabulary | Tokenizer | Lines matching | Pairs matching | Kinds of divergence (mismatching words) |");
        output.WriteLine("|---|---|---|---|---|");
        foreach (string vocabulary in new[] { "bert-base-uncased", "bert-base-chinese" })
        {
            bool lower = vocabulary.Contains("uncased");
            string vocab = Path.Combine(models, vocabulary, "vocab.txt");
            var v = reference.GetProperty(vocabulary);
            var single = v.GetProperty("single").EnumerateArray().Select(a => a.EnumerateArray().Select(e => e.GetInt32()).ToArray()).ToArray();
            var pairs = v.GetProperty("pairs").EnumerateArray().Select(p => (A: p.GetProperty("a").GetInt32(), B: p.GetProperty("b").GetInt32(),
                Ids: p.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray())).ToArray();
            var ours = HierRec.Text.BertTokenizer.Create(vocab, new BertTokenizerOptions { LowerCase = lower });
            Tokenizer oursAsTokenizer = ours;
            var candidates = new List<(string Name, Func<string, int[]> Single, Func<string, string, int[]> Pair)>
            {
                ("HierRec BertTokenizer.Encode", t => ours.Encode(t).Ids, (a, b) => ours.Encode(a, b).Ids),
                ("HierRec via Tokenizer.EncodeToIds", t => ours.BuildInputsWithSpecialTokens(oursAsTokenizer.EncodeToIds(t)).ToArray(),
                    (a, b) => ours.BuildInputsWithSpecialTokens(oursAsTokenizer.EncodeToIds(a), oursAsTokenizer.EncodeToIds(b)).ToArray()),
            };
            foreach (var (label, options) in new[]
            {
                ("ML.Tokenizers BertTokenizer, defaults" + (lower ? " + LowerCaseBeforeTokenization" : ""), new BertOptions { LowerCaseBeforeTokenization = lower }),
                ("ML.Tokenizers BertTokenizer" + (lower ? ", lower-case + RemoveNonSpacingMarks" : ", RemoveNonSpacingMarks=false"), new BertOptions { LowerCaseBeforeTokenization = lower, RemoveNonSpacingMarks = lower }),
            })
            {
                using var s = File.OpenRead(vocab);
                var ml = MLBertTokenizer.Create(s, options);
                Func<string, int[]> one = t => ml.EncodeToIds(t).ToArray();
                Func<string, string, int[]> two = (a, b) => ml.BuildInputsWithSpecialTokens(ml.EncodeToIds(a, addSpecialTokens: false), ml.EncodeToIds(b, addSpecialTokens: false)).ToArray();
                candidates.Add((label, one, two));
            }
            foreach (var (name, encode, encodePair) in candidates)
            {
                int lines = 0;
                var kinds = new SortedDictionary<string, int>(StringComparer.Ordinal);
                for (int i = 0; i < corpus.Length; i++)
                {
                    if (single[i].SequenceEqual(encode(corpus[i]))) { lines++; continue; }
                    // Which words differ: each whitespace-separated word, tokenized alone by both.
                    foreach (var word in corpus[i].Split([' '], StringSplitOptions.RemoveEmptyEntries).DefaultIfEmpty(corpus[i]))
                        if (!encode(word).SequenceEqual(ours.Encode(word).Ids))
                            foreach (var kind in Kinds(word)) kinds[kind] = kinds.GetValueOrDefault(kind) + 1;
                    if (kinds.Count == 0) kinds["whitespace/control between words"] = kinds.GetValueOrDefault("whitespace/control between words") + 1;
                }
                int pairHits = pairs.Count(p => p.Ids.SequenceEqual(encodePair(corpus[p.A], corpus[p.B])));
                string k = kinds.Count == 0 ? "none" : string.Join("; ", kinds.OrderByDescending(x => x.Value).Select(x => $"{x.Key} ({x.Value})"));
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {vocabulary} | {name} | {lines}/{corpus.Length} ({100.0 * lines / corpus.Length:F1} %) | {pairHits}/{pairs.Length} | {k} |"));
            }
        }
    }

    private static IEnumerable<string> Kinds(string word)
    {
        var seen = new HashSet<string>();
        foreach (var rune in word.EnumerateRunes())
        {
            int cp = rune.Value;
            string? kind = cp switch
            {
                '_' => "'_' kept inside words",
                '\t' or '\n' or '\r' => "\\t \\n \\r not word breaks",
                < 0x80 when "=<>$+^|`~".Contains((char)cp) => "ASCII symbols (= < > $ + ^ \\| ` ~) dropped",
                >= 0xAC00 and <= 0xD7A3 => "Hangul syllables not decomposed",
                _ when Rune.GetUnicodeCategory(rune) is UnicodeCategory.OtherSymbol or UnicodeCategory.MathSymbol or UnicodeCategory.ModifierSymbol or UnicodeCategory.CurrencySymbol
                    => "emoji and symbols (≥ ± …) dropped",
                _ when cp >= 0x80 && rune.ToString().Normalize(NormalizationForm.FormD).Length > rune.Utf16SequenceLength => "accents kept",
                _ when Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.OtherNotAssigned or UnicodeCategory.PrivateUse => "control / format characters",
                _ => null,
            };
            if (kind is not null && seen.Add(kind)) yield return kind;
        }
        if (seen.Count == 0) yield return "other";
    }
}

using System.Text.Json;
using HierRec.Text;
using Microsoft.ML.Tokenizers;
using MLBertTokenizer = Microsoft.ML.Tokenizers.BertTokenizer;

namespace HierRec.Tests.Text;

/// <summary>
/// HierRec's BERT tokenizer used through the <see cref="Tokenizer"/> abstraction (as Semantic Kernel or ML.NET code
/// would): id-exact on the golden corpus, offsets into the original text, counting, index-by-count and decoding.
/// </summary>
public class TokenizerSurfaceTests
{
    private static readonly string Golden = Path.Combine(AppContext.BaseDirectory, "Text", "Golden");

    private static string[] Corpus() => JsonDocument.Parse(File.ReadAllText(Path.Combine(Golden, "tokenizer_corpus.json"))).RootElement
        .GetProperty("texts").EnumerateArray().Select(e => e.GetString()!).ToArray();

    private static HierRec.Text.BertTokenizer FromVocab(string vocabulary) => HierRec.Text.BertTokenizer.Create(
        Path.Combine(SharedModels.Folder!, vocabulary, "vocab.txt"), new BertTokenizerOptions { LowerCase = vocabulary.Contains("uncased") });

    [RealModelsTheory]
    [InlineData("bert-base-uncased")]
    [InlineData("bert-base-chinese")]
    public void TokenizerAbstraction_MatchesTheReferenceTokenizer_IdForId(string vocabulary)
    {
        // bert-base-chinese is loaded the way a user would: from its folder, through tokenizer.json.
        Tokenizer tok = vocabulary == "bert-base-chinese" ? HierRec.Text.BertTokenizer.FromFolder(Path.Combine(SharedModels.Folder!, vocabulary)) : FromVocab(vocabulary);
        var bert = (HierRec.Text.BertTokenizer)tok;
        var corpus = Corpus();
        var golden = JsonDocument.Parse(File.ReadAllText(Path.Combine(Golden, "tokenizer_golden.json"))).RootElement.GetProperty("vocabularies").GetProperty(vocabulary);
        var single = golden.GetProperty("single").EnumerateArray().Select(a => a.EnumerateArray().Select(e => e.GetInt32()).ToArray()).ToArray();
        var mismatches = new List<int>();
        for (int i = 0; i < corpus.Length; i++)
        {
            var ids = bert.BuildInputsWithSpecialTokens(tok.EncodeToIds(corpus[i]));
            var tokens = tok.EncodeToTokens(corpus[i], out _);
            if (!single[i].SequenceEqual(ids) || !single[i].Skip(1).SkipLast(1).SequenceEqual(tokens.Select(t => t.Id))
                || tok.CountTokens(corpus[i]) != single[i].Length - 2 || !single[i].SequenceEqual(bert.EncodeToIds(corpus[i], addSpecialTokens: true)))
                mismatches.Add(i);
        }
        foreach (var p in golden.GetProperty("pairs").EnumerateArray())
        {
            int a = p.GetProperty("a").GetInt32(), b = p.GetProperty("b").GetInt32();
            var ids = bert.BuildInputsWithSpecialTokens(tok.EncodeToIds(corpus[a]), tok.EncodeToIds(corpus[b]));
            var types = bert.CreateTokenTypeIdsFromSequences(tok.EncodeToIds(corpus[a]), tok.EncodeToIds(corpus[b]));
            if (!p.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).SequenceEqual(ids)
                || !p.GetProperty("types").EnumerateArray().Select(x => x.GetInt32()).SequenceEqual(types)) mismatches.Add(1000 + a);
        }
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} mismatches, first: {string.Join(", ", mismatches.Take(5))}");
    }

    [RealModelsFact]
    public void FromFolder_ReadsTheChineseTokenizerJson_AsTheVocabDoes()
    {
        var fromJson = HierRec.Text.BertTokenizer.FromFolder(Path.Combine(SharedModels.Folder!, "bert-base-chinese"));
        var fromVocab = FromVocab("bert-base-chinese");
        Assert.Equal(fromVocab.VocabularySize, fromJson.VocabularySize);
        Assert.False(fromJson.Options.LowerCase);
        Assert.Equal(fromVocab.ClassificationTokenId, fromJson.ClassificationTokenId);
        foreach (var text in Corpus()) Assert.Equal(fromVocab.EncodeToIds(text), fromJson.EncodeToIds(text));
    }

    [RealModelsFact]
    public void Offsets_ReferToTheOriginalText_NotTheNormalisedOne()
    {
        Tokenizer tok = FromVocab("bert-base-uncased");
        const string text = "  CAFÉ\tİstanbul\r\n東京 [SEP] don't";
        var tokens = tok.EncodeToTokens(text, out string? normalized);
        Assert.Null(normalized);
        var sources = tokens.Select(t => (t.Value, Source: text[t.Offset])).ToArray();
        Assert.Contains(("cafe", "CAFÉ"), sources);
        Assert.Contains(("東", "東"), sources);
        Assert.Contains(("[SEP]", "[SEP]"), sources);
        Assert.Equal("İ", sources.First(s => s.Value == "istanbul" || s.Value.StartsWith('i')).Source[..1]);
    }

    [RealModelsFact]
    public void GetIndexByTokenCount_NeverCutsAWord_AndThePrefixEncodesToThoseTokens()
    {
        Tokenizer tok = FromVocab("bert-base-uncased");
        foreach (var text in Corpus().Take(120))
        {
            var all = tok.EncodeToIds(text);
            for (int max = 1; max <= all.Count + 1; max += 3)
            {
                int index = tok.GetIndexByTokenCount(text, max, out string? normalized, out int count);
                Assert.Null(normalized);
                Assert.InRange(count, 0, max);
                Assert.Equal(all.Take(count), tok.EncodeToIds(text[..index]));
                int fromEnd = tok.GetIndexByTokenCountFromEnd(text, max, out _, out int countFromEnd);
                Assert.InRange(countFromEnd, 0, max);
                Assert.Equal(all.Skip(all.Count - countFromEnd), tok.EncodeToIds(text[fromEnd..]));
            }
            var limited = tok.EncodeToIds(text, maxTokenCount: 5, out _, out int consumed);
            Assert.Equal(all.Take(limited.Count), limited);
            Assert.True(limited.Count <= 5 && consumed <= text.Length);
        }
    }

    [RealModelsFact]
    public void Decode_JoinsPieces_CleansUpSpaces_AndCanSkipSpecialTokens()
    {
        var tok = FromVocab("bert-base-uncased");
        var ids = tok.Encode("Unbelievably, the detective's clue wasn't there.").Ids;
        Assert.Equal("[CLS] unbelievably, the detective's clue wasn't there. [SEP]", tok.Decode(ids));
        Assert.Equal("unbelievably, the detective's clue wasn't there.", tok.Decode(ids, skipSpecialTokens: true));
        Span<char> small = stackalloc char[12];
        Assert.Equal(System.Buffers.OperationStatus.DestinationTooSmall, tok.Decode(ids, small, out int consumed, out int written));
        Assert.Equal(tok.Decode(ids.Take(consumed)), small[..written].ToString());
        Assert.Throws<ArgumentOutOfRangeException>(() => tok.Decode([tok.VocabularySize]));
    }

    [Fact]
    public void ManySpecialTokens_AreSplitCorrectly()
    {
        var tok = HierRec.Text.BertTokenizer.Create(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "##b"]);
        string text = string.Concat(Enumerable.Repeat("[SEP]ab [SEP][MASK", 2000));
        var ids = tok.EncodeToIds(text);
        Assert.Equal(2000 * 2, ids.Count(i => i == tok.SeparatorTokenId));
        Assert.Equal(2000, ids.Count(i => i == 5));
        Assert.Equal(0, ids.Count(i => i == tok.MaskingTokenId));
    }

    [RealModelsFact]
    public void TheMicrosoftBertTokenizer_IsNotExact_WhichIsWhyHierRecHasItsOwn()
    {
        // Documents the measured gap (benchmarks/README.md): configured as a new user would, ML.NET's BertTokenizer
        // drops ASCII symbols that Hugging Face keeps.
        using var vocab = File.OpenRead(Path.Combine(SharedModels.Folder!, "bert-base-uncased", "vocab.txt"));
        var ml = MLBertTokenizer.Create(vocab, new BertOptions { LowerCaseBeforeTokenization = true, RemoveNonSpacingMarks = true });
        var ours = FromVocab("bert-base-uncased");
        const string text = "price = $5 + tax";
        Assert.NotEqual(ours.EncodeToIds(text, addSpecialTokens: true), ml.EncodeToIds(text));
        Assert.Contains(ours.Id("$"), ours.EncodeToIds(text));
    }
}

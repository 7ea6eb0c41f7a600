using System.Text.Json;
using HierRec.Text;

namespace HierRec.Tests.Text;

/// <summary>
/// Id-for-id agreement with the Hugging Face tokenizers (their JavaScript port) on the committed corpus; golden ids
/// from Text/Golden/make_tokenizer_golden.cjs.
/// </summary>
public class BertTokenizerTests
{
    private static readonly string Golden = Path.Combine(AppContext.BaseDirectory, "Text", "Golden");

    private static BertTokenizer Create(string vocabulary) => vocabulary == "bert-base-uncased"
        ? BertTokenizer.Create(Path.Combine(SharedModels.Folder!, "bert-base-uncased", "vocab.txt"), new BertTokenizerOptions { LowerCase = true })
        : BertTokenizer.Create(Path.Combine(SharedModels.Folder!, "bert-base-chinese", "vocab.txt"), new BertTokenizerOptions { LowerCase = false });

    [RealModelsTheory]
    [InlineData("bert-base-uncased")]
    [InlineData("bert-base-chinese")]
    public void Encode_MatchesTheReferenceTokenizer_IdForId(string vocabulary)
    {
        var corpus = JsonDocument.Parse(File.ReadAllText(Path.Combine(Golden, "tokenizer_corpus.json"))).RootElement.GetProperty("texts").EnumerateArray().Select(e => e.GetString()!).ToArray();
        var golden = JsonDocument.Parse(File.ReadAllText(Path.Combine(Golden, "tokenizer_golden.json"))).RootElement;
        Assert.Equal("hierrec-tokenizer-golden", golden.GetProperty("format").GetString());
        Assert.Equal(1, golden.GetProperty("version").GetInt32());
        var tok = Create(vocabulary);
        var v = golden.GetProperty("vocabularies").GetProperty(vocabulary);
        var single = v.GetProperty("single").EnumerateArray().ToArray();
        Assert.True(corpus.Length >= 300);
        var mismatches = new List<string>();
        for (int i = 0; i < corpus.Length; i++)
        {
            var expected = single[i].EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var actual = tok.Encode(corpus[i]).Ids;
            if (!expected.SequenceEqual(actual)) mismatches.Add($"#{i} {JsonSerializer.Serialize(corpus[i])}: expected [{string.Join(",", expected)}] got [{string.Join(",", actual)}]");
        }
        foreach (var p in v.GetProperty("pairs").EnumerateArray())
        {
            int a = p.GetProperty("a").GetInt32(), b = p.GetProperty("b").GetInt32();
            var e = tok.Encode(corpus[a], corpus[b]);
            var ids = p.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).ToArray();
            var types = p.GetProperty("types").EnumerateArray().Select(x => x.GetInt32()).ToArray();
            if (!ids.SequenceEqual(e.Ids) || !types.SequenceEqual(e.TypeIds)) mismatches.Add($"pair {a},{b}");
        }
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} mismatches:\n" + string.Join("\n", mismatches.Take(10)));
    }

    [RealModelsTheory]
    [InlineData("bert-base-uncased")]
    public void Truncation_AndPadding_KeepSpecialTokensAndMasks(string vocabulary)
    {
        var tok = Create(vocabulary);
        var e = tok.Encode("one two three four five six", "seven eight", maxLength: 8, padToLength: 10);
        Assert.Equal(10, e.Ids.Length);
        Assert.Equal(tok.ClassificationTokenId, e.Ids[0]);
        Assert.Equal(new[] { 1, 1, 1, 1, 1, 1, 1, 1, 0, 0 }, e.AttentionMask);
        Assert.Equal(2, e.Ids.Count(id => id == tok.SeparatorTokenId));
        Assert.Equal(tok.PaddingTokenId, e.Ids[9]);
        Assert.Equal(new[] { 0, 0, 0, 0, 0, 1, 1, 1, 0, 0 }, e.TypeIds);
        var batch = tok.EncodeBatch(["short", "a much longer sentence here"]);
        Assert.Equal(batch[0].Ids.Length, batch[1].Ids.Length);
    }

    [Fact]
    public void Create_RejectsAVocabularyWithoutSpecialTokens_OrWithDuplicates()
    {
        Assert.Contains("[UNK]", Assert.Throws<InvalidDataException>(() => BertTokenizer.Create(new MemoryStream("[PAD]\n[CLS]\n[SEP]\n[MASK]\nhello\n"u8.ToArray()))).Message);
        Assert.Contains("line 3", Assert.Throws<InvalidDataException>(() => BertTokenizer.Create(new MemoryStream("[PAD]\nhello\nhello\n"u8.ToArray()))).Message.Replace(":3:", " line 3"));
    }
}

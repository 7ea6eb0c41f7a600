using System.Text.Json;
using HierRec.Text;

namespace HierRec.Tests.Text;

public class OffsetTests
{
    private static BertTokenizer Create(string vocabulary) => BertTokenizer.Create(Path.Combine(SharedModels.Folder!, vocabulary, "vocab.txt"),
        new BertTokenizerOptions { LowerCase = vocabulary.Contains("uncased") });

    [RealModelsTheory]
    [InlineData("bert-base-uncased")]
    [InlineData("bert-base-chinese")]
    public void Offsets_AgreeWithTokenization_OverTheWholeCorpus(string vocabulary)
    {
        var tok = Create(vocabulary);
        var corpus = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Text", "Golden", "tokenizer_corpus.json")))
            .RootElement.GetProperty("texts").EnumerateArray().Select(e => e.GetString()!).ToArray();
        foreach (var text in corpus)
        {
            var withOffsets = tok.EncodeToTokens(text, out string? normalized);
            Assert.Null(normalized);
            Assert.Equal(tok.EncodeToIds(text), withOffsets.Select(t => t.Id));
            int previous = 0;
            foreach (var token in withOffsets)
            {
                var (start, length) = token.Offset.GetOffsetAndLength(text.Length);
                int end = start + length;
                Assert.InRange(start, previous, text.Length);
                Assert.InRange(end, start + 1, text.Length);
                previous = start;
            }
        }
    }

    [RealModelsTheory]
    [InlineData("bert-base-uncased")]
    public void Offsets_PointAtTheSourceCharacters_ThroughCaseAccentsAndPieces(string vocabulary)
    {
        var tok = Create(vocabulary);
        const string text = "Unbelievably, Café [SEP] 东京!";
        var pieces = tok.EncodeToTokens(text, out _).Select(t => (Token: t.Value, Source: text[t.Offset])).ToArray();
        // Every piece's source text, normalised, is the piece without its ## prefix (or the piece is [UNK] / special).
        foreach (var (token, source) in pieces)
        {
            if (token is "[UNK]" or "[SEP]") continue;
            string normalized = new string(source.ToLowerInvariant().Normalize(System.Text.NormalizationForm.FormD)
                .Where(c => System.Globalization.CharUnicodeInfo.GetUnicodeCategory(c) != System.Globalization.UnicodeCategory.NonSpacingMark).ToArray());
            Assert.Equal(token.StartsWith("##") ? token[2..] : token, normalized);
        }
        Assert.Contains(pieces, p => p.Source == "Café" || p.Source.EndsWith("é"));
        Assert.Contains(pieces, p => p.Token == "[SEP]" && p.Source == "[SEP]");
        Assert.Equal("Un", pieces[0].Source[..2]);
    }
}

using HierRec.Data;
using HierRec.Text;

namespace HierRec.Tests.Text;

public class WordPieceTrainerTests
{
    private static string[] Corpus() => SyntheticDataset.Generate(new SyntheticOptions { Users = 10, Items = 300 }).ItemFeatures.Text("description")!.Select(s => s!).ToArray();

    [Fact]
    public void Train_PutsSpecialTokensFirst_RespectsTheSize_AndIsDeterministic()
    {
        var vocab = WordPieceTrainer.Train(Corpus(), 200);
        Assert.Equal(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"], vocab.Take(5));
        Assert.True(vocab.Count <= 200);
        Assert.Equal(vocab.Count, vocab.Distinct().Count());
        Assert.Equal(vocab, WordPieceTrainer.Train(Corpus(), 200));
    }

    [Fact]
    public void TrainedVocabulary_EncodesItsCorpusWithoutUnknowns_AndLearnsFrequentWordsWhole()
    {
        var corpus = Corpus();
        var tok = BertTokenizer.Create(WordPieceTrainer.Train(corpus, 400));
        Assert.All(corpus, text => Assert.DoesNotContain(tok.UnknownTokenId, tok.EncodeToIds(text)));
        // "the" and "about" occur in every description: they must be single tokens.
        Assert.Equal(["the"], tok.EncodeToTokens("the", out _).Select(t => t.Value));
        Assert.Equal(["about"], tok.EncodeToTokens("about", out _).Select(t => t.Value));
        // A word made of seen characters but never seen whole still splits into known pieces.
        Assert.DoesNotContain(tok.UnknownTokenId, tok.EncodeToIds("mysterious detectives"));
    }
}

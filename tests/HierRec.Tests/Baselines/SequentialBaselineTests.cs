using HierRec.Baselines;
using HierRec.Data;
using HierRec.Evaluation;

namespace HierRec.Tests.Baselines;

public sealed class SequentialBaselineTests
{
    private static DataSplit Walks(ulong seed) => TestData.Walks(seed);

    private static double TestNdcg(IScoringModel model, DataSplit split) =>
        new Evaluator { Ks = [10] }.Evaluate(model, split.Test, split.Train, split.Validation)["ndcg@10"];

    private static readonly SequentialOptions Small = new() { Hidden = 32, Inner = 64, MaxLength = 12, BatchSize = 32, MaxEpochs = 40, Patience = 5, LearningRate = 5e-3f };

    [Fact]
    public void SasRec_LearnsWhatComesNext_AndReadsTheValidationItemAtTestTime()
    {
        var split = Walks(1);
        var sas = SasRec.Fit(split.Train, split.Validation, Small);
        // At test time the sequence includes the validation item, as RecBole's sequential protocol feeds it.
        double withValidation = TestNdcg(sas.WithHistory(split.Train, split.Validation), split);
        double trainOnly = TestNdcg(sas, split);
        double popular = TestNdcg(new MostPopular(split.Train), split);
        Assert.True(withValidation > 0.5 && withValidation > popular + 0.3, $"SASRec {withValidation:F3}, train-only history {trainOnly:F3}, MostPopular {popular:F3}");
        Assert.True(withValidation > trainOnly, $"with the validation item {withValidation:F3}, without {trainOnly:F3}");
        Assert.InRange(sas.BestEpoch, 1, 40);
    }

    [Fact]
    public void Bert4Rec_LearnsWhatComesNext()
    {
        var split = Walks(2);
        var bert = Bert4Rec.Fit(split.Train, split.Validation, Small);
        double ndcg = TestNdcg(bert.WithHistory(split.Train, split.Validation), split);
        double popular = TestNdcg(new MostPopular(split.Train), split);
        Assert.True(ndcg > 0.4 && ndcg > popular + 0.25, $"BERT4Rec {ndcg:F3}, MostPopular {popular:F3}");
    }

    [Fact]
    public void Chronological_OrdersByTime_ThenByPart_AndBadOptionsAreNamed()
    {
        var split = Walks(3);
        var seqs = SequenceTransformer.Chronological(split.Train, split.Validation);
        foreach (var x in split.Validation.Interactions) Assert.Equal(x.Item, seqs[x.User][^1]);
        Assert.Contains("SequentialOptions.Heads", Assert.ThrowsAny<ArgumentException>(() => SasRec.Fit(split.Train, null, new SequentialOptions { Hidden = 30, Heads = 4 })).Message);
        Assert.Contains("SequentialOptions.MaxLength", Assert.ThrowsAny<ArgumentException>(() => Bert4Rec.Fit(split.Train, null, new SequentialOptions { MaxLength = 1 })).Message);
    }
}

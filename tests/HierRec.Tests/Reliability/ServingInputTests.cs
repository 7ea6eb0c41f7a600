using HierRec.Baselines;
using HierRec.Data;
using HierRec.Ranking;
using HierRec.Text;
using HierRec.Training;
using HierRec.Users;

namespace HierRec.Tests.Reliability;

/// <summary>Numeric extremes at serving time, and options out of range at every public entry point.</summary>
[Trait("Category", "Hostile")]
public sealed class ServingInputTests
{
    [Fact]
    public void VectorsAndQueriesBeyondTheNormBound_AreRefused_SoScoresNeverOverflow()
    {
        var huge = Enumerable.Repeat(3e14f, 16).ToArray(); // norm 1.2e15 > 1e15; the float32 dot product would be +∞
        Assert.Contains("norm", Assert.Throws<ArgumentException>(() => ItemIndex.Create(huge, 1, 16)).Message);
        using var index = ItemIndex.Create(Enumerable.Range(0, 64).Select(i => (float)Math.Sin(i)).ToArray(), 4, 16);
        Assert.Contains("norm", Assert.Throws<ArgumentException>(() => index.Rank(huge, 2)).Message);
        Assert.Throws<ArgumentException>(() => index.Update(0, huge));
    }

    [Theory]
    [InlineData(1e-30f)]
    [InlineData(1e30f)]
    [InlineData(0f)]
    [InlineData(float.NaN)]
    public void TemperaturesOutsideTheirRange_AreRefused(float temperature)
    {
        using var index = ItemIndex.Create(new float[] { 1, 0, 0, 1 }, 2, 2);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => index.Rank(new float[] { 1, 1 }, 1, new RankOptions { Temperature = temperature }));
        Assert.Contains("RankOptions.Temperature", ex.Message);
    }

    [Theory]
    [InlineData(VectorPrecision.Float32)]
    [InlineData(VectorPrecision.Float16)]
    [InlineData(VectorPrecision.Int8)]
    public void AtTheEdgesOfTheBounds_ProbabilitiesStayInZeroOneAndSumToAtMostOne(VectorPrecision precision)
    {
        var rng = new Rng(3);
        var items = new float[500 * 8];
        rng.FillNormal(items, 0, 1e6f); // norms near 3·10⁶, scores near 10¹³
        using var index = ItemIndex.Create(items, 500, 8, precision);
        var query = new float[8];
        rng.FillNormal(query, 0, 1e6f);
        foreach (float t in new[] { 1e-6f, 1f, 1e6f })
        {
            var top = index.Rank(query, 50, new RankOptions { Temperature = t });
            Assert.All(top, x => Assert.InRange(x.Probability, 0f, 1f));
            Assert.True(top.Sum(x => (double)x.Probability) <= 1 + 1e-6, $"sum {top.Sum(x => (double)x.Probability)} at T = {t}");
            Assert.All(top, x => Assert.True(float.IsFinite(x.Score)));
        }
    }

    [Fact]
    public void AProfileValueFarOutsideTheTrainedRange_CountsAsTheEdgeOfTheRange()
    {
        var (split, r, _) = HostileFolder.Saved.Value;
        var age = r.Model.Profile!.Schema.Numeric.Single(n => n.Name == "age");
        UserProfile With(float a) => new(new Dictionary<string, string?> { ["gender"] = "F" }, new Dictionary<string, float> { ["age"] = a });
        var absurd = r.RecommendForNewUser(With(1e30f), [], [], 10);
        var edge = r.RecommendForNewUser(With(age.Mean + ProfileEncoder.ClampSigma * age.Std), [], [], 10);
        Assert.Equal(edge.Select(x => x.ItemId), absurd.Select(x => x.ItemId));
        for (int i = 0; i < 10; i++) Assert.Equal(edge[i].Probability, absurd[i].Probability, 6);
        Assert.True(absurd[0].Probability < 0.5, $"P(top) = {absurd[0].Probability}");
        _ = split;
    }

    public static TheoryData<string, Action> BadOptions => new()
    {
        { "HierarchicalTrainingOptions.BatchSize", () => new HierarchicalTrainingOptions { BatchSize = 0 }.Validate() },
        { "HierarchicalTrainingOptions.Epochs", () => new HierarchicalTrainingOptions { Epochs = -1 }.Validate() },
        { "HierarchicalTrainingOptions.LearningRate", () => new HierarchicalTrainingOptions { LearningRate = float.NaN }.Validate() },
        { "HierarchicalTrainingOptions.InputShare", () => new HierarchicalTrainingOptions { InputShare = 1f }.Validate() },
        { "HierarchicalOptions.Dimension", () => new HierarchicalOptions { Dimension = 0 }.Validate() },
        { "HierarchicalOptions.Heads", () => new HierarchicalOptions { Dimension = 64, Heads = 3 }.Validate() },
        { "HierarchicalOptions.Temperature", () => new HierarchicalOptions { Temperature = 0 }.Validate() },
        { "HierarchicalOptions.Fusion", () => new HierarchicalOptions { Fusion = (FusionKind)42 }.Validate() },
        { "LightGcnOptions.Layers", () => new LightGcnOptions { Layers = -1 }.Validate() },
        { "SyntheticOptions.Homophily", () => new SyntheticOptions { Homophily = 2 }.Validate() },
        { "MlmOptions.MaskProbability", () => new MlmOptions { MaskProbability = 0 }.Validate() },
        { "DomainBertOptions.Heads", () => new DomainBertOptions { HiddenSize = 64, Heads = 3 }.Validate() },
        { "LoadOptions.Ids", () => new LoadOptions { Ids = (IdNormalization)9 }.Validate() },
        { "RecommenderOptions.Model", () => new RecommenderOptions { Model = null! }.Validate() },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void EveryOptionsType_NamesTheOptionAndItsRange(string option, Action validate)
    {
        var ex = Assert.ThrowsAny<ArgumentException>(validate);
        Assert.Contains(option, ex.Message);
    }

    [Fact]
    public void BadOptions_AreRefusedAtTheEntryPoints_BeforeAnyWork()
    {
        var data = SyntheticDataset.Generate(new SyntheticOptions { Users = 20, Items = 30 });
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => HierarchicalRecommender.Fit(data, null,
            new RecommenderOptions { Training = new HierarchicalTrainingOptions { BatchSize = 0 } }));
        Assert.Contains("HierarchicalTrainingOptions.BatchSize must be in [1,", ex.Message);
        Assert.Contains("SyntheticOptions.Users", Assert.ThrowsAny<ArgumentException>(() => SyntheticDataset.Generate(new SyntheticOptions { Users = 0 })).Message);
        Assert.Contains("LightGcnOptions.Dimension", Assert.ThrowsAny<ArgumentException>(() => LightGcn.Fit(data, null, new LightGcnOptions { Dimension = 0 })).Message);
        Assert.Contains("has no interactions", Assert.Throws<ArgumentException>(() => HierarchicalRecommender.Fit(data.WithInteractions([]), null)).Message);
        var other = SyntheticDataset.Generate(new SyntheticOptions { Users = 5, Items = 12, MeanInteractions = 3, FriendsPerUser = 2 });
        Assert.Contains("must come from one split", Assert.Throws<ArgumentException>(() => HierarchicalRecommender.Fit(data, other)).Message);
        Assert.Contains("Evaluator.Ks is empty", Assert.Throws<ArgumentException>(() => new HierRec.Evaluation.Evaluator { Ks = [] }
            .Evaluate(new HierRec.Baselines.MostPopular(data), data)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => UserProfile.From(data.UserFeatures, data.UserCount));
        Assert.Contains("DomainBertOptions.VocabularySize", Assert.ThrowsAny<ArgumentException>(() => DomainBert.Pretrain(["a b c"], new DomainBertOptions { VocabularySize = 1 }, out _)).Message);
    }
}

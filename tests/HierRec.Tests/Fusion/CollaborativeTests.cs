using HierRec.Baselines;
using HierRec.Data;
using HierRec.Evaluation;
using HierRec.Fusion;
using HierRec.Scoring;
using HierRec.Text;
using HierRec.Training;
using TorchSharp;

namespace HierRec.Tests.Fusion;

public sealed class CollaborativeTests() : TempFolderTests("hierrec-collab-")
{
    private static readonly Lazy<DataSplit> Split = new(TestData.SmallSynthetic);

    private static RecommenderOptions Options(CollaborativeOptions? collaborative = null, ScorerKind scorer = ScorerKind.Dot) => new()
    {
        Model = new HierarchicalOptions { Dimension = 16, Scorer = scorer, Temperature = 0.5f },
        Training = new HierarchicalTrainingOptions { Epochs = 2, BatchSize = 32, LearningRate = 3e-3f },
        DomainBert = new DomainBertOptions { Epochs = 1, VocabularySize = 300, HiddenSize = 32, MaxLength = 16 },
        Collaborative = collaborative ?? new CollaborativeOptions { Rank = 24, Lambdas = [50, 200], Weights = [0f, 1f, 4f] },
        Sequential = new SequentialDimensionOptions { Enabled = false }, // SequentialDimensionTests cover it
        FriendItems = new FriendItemsOptions { Enabled = false },        // FriendItemsTests cover it
    };

    private static readonly Lazy<HierarchicalRecommender> Fitted = new(() =>
        HierarchicalRecommender.Fit(Split.Value.Train, Split.Value.Validation, Options(new CollaborativeOptions { Rank = 24, Lambdas = [50, 200], Weights = [1f] })));

    [Fact]
    public void AtFullRank_TheFactorsReproduceEase()
    {
        var train = Split.Value.Train;
        var ease = new Ease(train, 100);
        var c = CollaborativeDimension.Fit(train, 100, train.ItemCount);
        int n = train.ItemCount;
        var expected = new float[3 * n];
        ease.ScoreUsers([0, 1, 2], expected);
        var f = new float[c.Rank];
        for (int u = 0; u < 3; u++)
        {
            var history = new InteractionMatrix(train).Row(u).ToArray();
            c.UserFactors(history, f);
            float scale = expected.AsSpan(u * n, n).ToArray().Max(Math.Abs);
            for (int i = 0; i < n; i++) Assert.Equal(expected[u * n + i], c.Score(f, i), scale * 1e-3f);
        }
    }

    [Fact]
    public void TheRandomisedFactorisation_IsNearTheBestOfItsRank()
    {
        var train = Split.Value.Train;
        const int rank = 20;
        var c = CollaborativeDimension.Fit(train, 100, rank, seed: 7);
        using var scope = torch.NewDisposeScope();
        var b = Ease.SolveTensor(new InteractionMatrix(train), 100, null);
        var s = torch.linalg.svdvals(b);
        double best = Math.Sqrt(s.narrow(0, rank, s.shape[0] - rank).pow(2).sum().item<float>());
        var a = torch.tensor(c.HistoryFactors.ToArray(), [c.Items, rank]);
        var v = torch.tensor(c.CandidateFactors.ToArray(), [c.Items, rank]);
        double error = (a.matmul(v.t()) - b).norm().item<float>();
        Assert.InRange(error, best * 0.999, best * 1.02);
    }

    [Fact]
    public void TheFusedQuery_AddsTheCollaborativeScoresRescaledToTheUsersSpread()
    {
        var train = Split.Value.Train;
        var c = CollaborativeDimension.Fit(train, 100, 10);
        var rng = new Random(4);
        const int d = 6;
        var items = Enumerable.Range(0, c.Items * d).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        var fusion = new DimensionFusion(items, d, c, 2f);
        var rows = fusion.ItemRows(items);
        var x = Enumerable.Range(0, d).Select(_ => (float)rng.NextDouble()).ToArray();
        int[] history = [3, 5, 8, 5];
        var q = fusion.Query(x, history, out float w);
        var f = new float[c.Rank];
        c.UserFactors([3, 5, 8], f); // the repeated 5 counts once
        var hier = Enumerable.Range(0, c.Items).Select(i => (double)System.Numerics.Tensors.TensorPrimitives.Dot(x, items.AsSpan(i * d, d))).ToArray();
        var collab = Enumerable.Range(0, c.Items).Select(i => (double)c.Score(f, i)).ToArray();
        static double Sd(double[] a) { double m = a.Average(); return Math.Sqrt(a.Sum(v => (v - m) * (v - m)) / a.Length); }
        Assert.Equal(2 * Sd(hier) / Sd(collab), w, 1e-3 * w);
        for (int i = 0; i < c.Items; i++)
        {
            float fused = System.Numerics.Tensors.TensorPrimitives.Dot(q, rows.AsSpan(i * fusion.Width, fusion.Width));
            Assert.Equal(hier[i] + w * collab[i], fused, 1e-3);
            var (h, co, _) = fusion.Parts(q, rows.AsSpan(i * fusion.Width, fusion.Width));
            Assert.Equal(hier[i], h, 1e-4);
            Assert.Equal(w * collab[i], co, 1e-3);
        }
        // No history: no collaborative part.
        Assert.All(fusion.Query(x, [], out float none).AsSpan(d).ToArray(), v => Assert.Equal(0f, v));
        Assert.Equal(0f, none);
    }

    [Fact]
    public void Fit_ChoosesLambdaAndWeightOnValidation_AndServesTheFusedScores()
    {
        var split = Split.Value;
        var r = HierarchicalRecommender.Fit(split.Train, split.Validation, Options());
        var report = r.CollaborativeReport!;
        Assert.Equal([50.0, 200.0], report.LambdaValidation.Keys.Order());
        Assert.Equal([0f, 1f, 4f], report.WeightValidation.Keys.Order());
        Assert.Equal(report.WeightValidation.MaxBy(p => p.Value).Key, report.Weight);
        Assert.Equal(report.LambdaValidation.MaxBy(p => p.Value).Key, report.Lambda);
        // The report's figure for the chosen weight is what the served model scores on validation.
        double served = new Evaluator { Ks = [10] }.Evaluate(r.AsScoringModel(), split.Validation, split.Train)["ndcg@10"];
        Assert.Equal(report.WeightValidation[report.Weight], served, 6);
        Assert.Equal(report.Weight, r.CollaborativeWeight);
    }

    [Fact]
    public void Recommend_RanksByTheFusedScore_AndExplainShowsTheCollaborativePart()
    {
        var split = Split.Value;
        var r = Fitted.Value;
        Assert.NotNull(r.Collaborative);
        Assert.Equal(16 + 24, r.Dimension);
        string user = split.Train.Users.ToExternal(2);
        var top = FusedServing.AssertRecommendIsBruteForce(r, user);
        var why = r.Explain(user, top[0].ItemId);
        Assert.Equal(top[0].Score, why.Score, 3);
        Assert.Equal(1, why.Rank);
        Assert.True(why.LayerAttributions.ContainsKey("collaborative"));
        // The collaborative part is the served score minus the hierarchical model's own.
        Assert.Equal(why.Score - FusedServing.OwnScore(r, split.Train, 2, top[0].ItemId), why.LayerAttributions["collaborative"], 2e-3 * Math.Max(1, Math.Abs(why.Score)));
        Assert.True(why.ScoreShares.ContainsKey("collaborative"));
        // The history items' parts add up to the collaborative part, and the sentence names the dimension.
        Assert.Equal(r.Context.Histories[2].Distinct().Count(), why.CollaborativeAttributions!.Count);
        Assert.Equal(why.LayerAttributions["collaborative"], why.CollaborativeAttributions.Sum(a => a.Value), 1e-3 * Math.Max(1, Math.Abs(why.LayerAttributions["collaborative"])));
        if (why.ScoreShares["collaborative"] > 0.005)
            Assert.Contains("what people with your items also chose", HierRec.Explanations.ExplanationText.ToSentence(why));
    }

    [Fact]
    public void SaveLoad_ServesTheSameFusedRecommendations_AndChecksTheFactors()
    {
        var split = Split.Value;
        var r = Fitted.Value;
        string folder = Path.Combine(Dir, "model");
        r.Save(folder);
        Assert.True(File.Exists(Path.Combine(folder, "collaborative.safetensors")));
        var loaded = HierarchicalRecommender.Load(folder);
        Assert.Equal(r.CollaborativeWeight, loaded.CollaborativeWeight);
        Assert.Equal(r.Collaborative!.Lambda, loaded.Collaborative!.Lambda);
        FusedServing.AssertServesTheSame(r, loaded, split.Train);
        // A manifest that declares the dimension with a weight of 0 is refused, naming the field (checksums rewritten so
        // the manifest check itself is what fails).
        string manifest = Path.Combine(folder, "recommender.json");
        var json = File.ReadAllText(manifest);
        string weight = System.Text.RegularExpressions.Regex.Match(json, "\"Weight\":\\s*[0-9.eE+-]+").Value;
        Assert.NotEmpty(weight);
        File.WriteAllText(manifest, json.Replace(weight, "\"Weight\": 0"));
        HierRec.Serialization.FolderChecksums.Write(folder);
        var ex = Assert.Throws<InvalidDataException>(() => HierarchicalRecommender.Load(folder));
        Assert.Contains("Collaborative.Weight", ex.Message);
    }

    [Fact]
    public void TheDimensionIsOff_AndSaysWhy_ForACosineScorerOrALargeCatalogue()
    {
        var split = Split.Value;
        var cosine = HierarchicalRecommender.Fit(split.Train, split.Validation, Options(scorer: ScorerKind.Cosine) with { Training = new HierarchicalTrainingOptions { Epochs = 1 } });
        Assert.Null(cosine.Collaborative);
        Assert.Contains("cosine", cosine.DisabledLayers["collaborative"]);
        var large = HierarchicalRecommender.Fit(split.Train, split.Validation, Options(new CollaborativeOptions { MaxItems = 50 }) with { Training = new HierarchicalTrainingOptions { Epochs = 1 } });
        Assert.Null(large.Collaborative);
        Assert.Contains("MaxItems (50)", large.DisabledLayers["collaborative"]);
        Assert.Equal(16, large.Dimension);
        var off = HierarchicalRecommender.Fit(split.Train, split.Validation, Options(new CollaborativeOptions { Enabled = false }) with { Training = new HierarchicalTrainingOptions { Epochs = 1 } });
        Assert.Null(off.Collaborative);
        Assert.False(off.DisabledLayers.ContainsKey("collaborative"));
    }

    [Fact]
    public void WithoutValidation_TheFirstLambdaAndWeightOneAreServed()
    {
        var split = Split.Value;
        var r = HierarchicalRecommender.Fit(split.Train, null, Options() with { Training = new HierarchicalTrainingOptions { Epochs = 1 } });
        Assert.Equal(50, r.CollaborativeReport!.Lambda);
        Assert.Equal(1f, r.CollaborativeWeight);
        Assert.Empty(r.CollaborativeReport.LambdaValidation);
        Assert.Empty(r.CollaborativeReport.WeightValidation);
    }

    [Fact]
    public void BadFactorsAndOptions_AreNamed()
    {
        Assert.Contains("needs 6 each", Assert.Throws<InvalidDataException>(() => CollaborativeDimension.FromFactors(3, 2, 10, new float[6], new float[5], "f.safetensors")).Message);
        Assert.Contains("not finite", Assert.Throws<InvalidDataException>(() => CollaborativeDimension.FromFactors(3, 2, 10, new float[6], [0, 0, float.NaN, 0, 0, 0], "f.safetensors")).Message);
        Assert.Contains("CollaborativeOptions.Weights", Assert.ThrowsAny<ArgumentException>(() => new CollaborativeOptions { Weights = [-1f] }.Validate()).Message);
        Assert.Contains("CollaborativeOptions.Lambdas", Assert.ThrowsAny<ArgumentException>(() => new CollaborativeOptions { Lambdas = [] }.Validate()).Message);
        Assert.Contains("CollaborativeOptions.Rank", Assert.ThrowsAny<ArgumentException>(() => new RecommenderOptions { Collaborative = new CollaborativeOptions { Rank = 0 } }.Validate()).Message);
    }
}

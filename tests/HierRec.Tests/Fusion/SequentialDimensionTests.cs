using HierRec.Baselines;
using HierRec.Data;
using HierRec.Evaluation;
using HierRec.Fusion;
using HierRec.Text;
using HierRec.Training;

namespace HierRec.Tests.Fusion;

public sealed class SequentialDimensionTests() : TempFolderTests("hierrec-seq-")
{
    private static DataSplit Walks(ulong seed, bool timestamps = true) => TestData.Walks(seed, timestamps, titles: true);

    private static readonly Lazy<DataSplit> Split = new(() => Walks(5));

    private static readonly SequentialOptions Small = new() { Hidden = 32, Inner = 64, MaxLength = 12, BatchSize = 32, MaxEpochs = 40, Patience = 5, LearningRate = 5e-3f, Seed = 3 };

    private static readonly Lazy<SequentialDimension> Sasrec = new(() => SequentialDimension.Fit(Split.Value.Train, Split.Value.Validation, Small));

    private static RecommenderOptions Options(SequentialDimensionOptions? sequential = null) => new()
    {
        Model = new HierarchicalOptions { Dimension = 16, Temperature = 0.5f },
        Training = new HierarchicalTrainingOptions { Epochs = 2, BatchSize = 32, LearningRate = 3e-3f },
        DomainBert = new DomainBertOptions { Epochs = 1, VocabularySize = 200, HiddenSize = 32, MaxLength = 12 },
        Collaborative = new CollaborativeOptions { Rank = 16, Lambdas = [50], Weights = [0f, 1f] },
        Sequential = sequential ?? new SequentialDimensionOptions { Pretrained = Sasrec.Value, Weights = [0f, 0.5f, 2f, 8f] },
    };

    private static readonly Lazy<HierarchicalRecommender> Fitted = new(() => HierarchicalRecommender.Fit(Split.Value.Train, Split.Value.Validation, Options()));

    private static double Ndcg(IScoringModel model, Dataset target, params Dataset[] known) => new Evaluator { Ks = [10] }.Evaluate(model, target, known)["ndcg@10"];

    [Fact]
    public void TheStates_ScoredAgainstTheItemRows_AreSasRecsOwnScores()
    {
        var split = Split.Value;
        var sas = SasRec.Fit(split.Train, split.Validation, Small);
        var dimension = SequentialDimension.From(sas);
        var histories = HierRec.Users.UserContext.FromDataset(split.Train).Histories; // most recent first
        var users = new[] { 0, 1, 7 };
        var states = dimension.UserStates(users.Select(u => histories[u]).ToArray());
        var own = new float[users.Length * dimension.Items];
        sas.ScoreUsers(users, own);
        for (int k = 0; k < users.Length; k++)
            for (int i = 0; i < dimension.Items; i++)
            {
                float dot = System.Numerics.Tensors.TensorPrimitives.Dot(states.AsSpan(k * dimension.Width, dimension.Width), dimension.ItemRows.Slice(i * dimension.Width, dimension.Width));
                Assert.Equal(own[k * dimension.Items + i], dot, 1e-4f * (1 + Math.Abs(dot)));
            }
        Assert.Equal(32, dimension.Width);
        Assert.Contains("outside the 60 items", Assert.Throws<ArgumentOutOfRangeException>(() => dimension.UserStates([[3, 60]])).Message);
    }

    [Fact]
    public void TheFusedQuery_AddsTheSequentialScoresRescaledToTheUsersSpread()
    {
        var s = Sasrec.Value;
        const int d = 5;
        var rng = new HierRec.Rng(4);
        var items = Enumerable.Range(0, s.Items * d).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var fusion = new DimensionFusion(items, d, null, 0f, s, 3f);
        Assert.Equal(d + s.Width, fusion.Width);
        var rows = fusion.ItemRows(items);
        var x = new float[] { 0.3f, -0.2f, 0.5f, 0.1f, -0.4f };
        int[] history = [9, 8, 7];
        var q = fusion.Query(x, history);
        var state = new float[s.Width];
        s.UserState(history, state);
        var hier = Enumerable.Range(0, s.Items).Select(i => (double)System.Numerics.Tensors.TensorPrimitives.Dot(x, items.AsSpan(i * d, d))).ToArray();
        var seq = Enumerable.Range(0, s.Items).Select(i => (double)System.Numerics.Tensors.TensorPrimitives.Dot(state, s.ItemRows.Slice(i * s.Width, s.Width))).ToArray();
        static double Sd(double[] a) { double m = a.Average(); return Math.Sqrt(a.Sum(v => (v - m) * (v - m)) / a.Length); }
        double v = 3 * Sd(hier) / Sd(seq);
        Assert.Equal(v, fusion.SequentialUserWeight(x, state), 1e-3 * v);
        for (int i = 0; i < s.Items; i++)
        {
            var row = rows.AsSpan(i * fusion.Width, fusion.Width);
            var (h, c, sq) = fusion.Parts(q, row);
            Assert.Equal(hier[i], h, 1e-4);
            Assert.Equal(0f, c);
            Assert.Equal(v * seq[i], sq, 1e-3 * (1 + Math.Abs(v * seq[i])));
        }
        // A state given is used as it is; one of the wrong width is named; no history, no sequential part.
        Assert.Equal(q, fusion.Query(x, [1], x, out _, state));
        Assert.All(fusion.Query(x, [], x, out _, state).AsSpan(d).ToArray(), z => Assert.Equal(0f, z));
        Assert.Contains("sequence state", Assert.Throws<ArgumentException>(() => fusion.Query(x, history, x, out _, new float[3])).Message);
        Assert.Throws<ArgumentException>(() => new DimensionFusion(items, d, null, 0f, null, 0f));
    }

    [Fact]
    public void Fit_ChoosesTheSequentialWeightOnValidation_AndServesIt()
    {
        var split = Split.Value;
        var r = Fitted.Value;
        var report = r.SequentialReport!;
        Assert.Equal([0f, 0.5f, 2f, 8f], report.WeightValidation.Keys.Order());
        Assert.Equal(report.WeightValidation.MaxBy(p => p.Value).Key, report.Weight);
        // On walks, what comes next is in the order: the dimension is served and lifts validation.
        Assert.True(report.Weight > 0, $"γ_s chosen {report.Weight}: {string.Join(", ", report.WeightValidation)}");
        Assert.True(report.WeightValidation[report.Weight] > report.WeightValidation[0f] + 0.05, string.Join(", ", report.WeightValidation));
        Assert.Same(Sasrec.Value, r.Sequential);
        Assert.Equal(report.Weight, r.SequentialWeight);
        double served = Ndcg(r.AsScoringModel(), split.Validation, split.Train);
        Assert.Equal(report.WeightValidation[report.Weight], served, 6);
        // Scoring test from the training and validation items (the sequential protocol) beats the training items alone.
        double withValidation = Ndcg(r.AsScoringModel(split.Train, split.Validation), split.Test, split.Train, split.Validation);
        double trainOnly = Ndcg(r.AsScoringModel(), split.Test, split.Train, split.Validation);
        Assert.True(withValidation > trainOnly, $"test NDCG@10 with the validation item {withValidation:F3}, without {trainOnly:F3}");
    }

    [Fact]
    public void Recommend_RanksByTheFusedScore_AndExplainShowsTheSequentialPart()
    {
        var split = Split.Value;
        var r = Fitted.Value;
        int width = 16 + (r.Collaborative?.Rank ?? 0) + 32;
        Assert.Equal(width, r.Dimension);
        string user = split.Train.Users.ToExternal(4);
        var top = FusedServing.AssertRecommendIsBruteForce(r, user);
        var why = r.Explain(user, top[0].ItemId);
        Assert.Equal(top[0].Score, why.Score, 3);
        Assert.Equal(1, why.Rank);
        // The served score is the hierarchical model's own plus the collaborative and sequential parts.
        double parts = FusedServing.OwnScore(r, split.Train, 4, top[0].ItemId) + why.LayerAttributions.GetValueOrDefault("collaborative") + why.LayerAttributions["sequential"];
        Assert.Equal(why.Score, parts, 2e-3 * Math.Max(1, Math.Abs(why.Score)));
        Assert.True(why.ScoreShares.ContainsKey("sequential"));
        // The most recent items are attributed, and leaving out the last one moves the sequential part most on walks.
        var recent = r.History(user).Take(5).ToArray();
        var attributions = why.SequentialAttributions!;
        Assert.Equal(recent.Order(), attributions.Select(a => a.Id).Order());
        Assert.Equal(recent[0], attributions.MaxBy(a => a.Value)!.Id);
        if (why.ScoreShares["sequential"] > 0.005)
            Assert.Contains("what tends to come next after your latest items", HierRec.Explanations.ExplanationText.ToSentence(why));
    }

    [Fact]
    public void SaveLoad_ServesTheSameFusedRecommendations_AndChecksTheModel()
    {
        var split = Split.Value;
        var r = Fitted.Value;
        string folder = Path.Combine(Dir, "model");
        r.Save(folder);
        Assert.True(File.Exists(Path.Combine(folder, "sequential.safetensors")));
        var loaded = HierarchicalRecommender.Load(folder);
        Assert.Equal(r.SequentialWeight, loaded.SequentialWeight);
        FusedServing.AssertServesTheSame(r, loaded, split.Train);
        // A manifest whose sequential model does not match the weights file is refused, naming the file and tensor.
        string manifest = Path.Combine(folder, "recommender.json");
        var json = File.ReadAllText(manifest);
        File.WriteAllText(manifest, System.Text.RegularExpressions.Regex.Replace(json, "\"Inner\":\\s*64", "\"Inner\":48"));
        Assert.NotEqual(json, File.ReadAllText(manifest));
        HierRec.Serialization.FolderChecksums.Write(folder);
        var ex = Assert.Throws<InvalidDataException>(() => HierarchicalRecommender.Load(folder));
        Assert.Contains("sequential.safetensors", ex.Message);
        // A weight of 0 is refused by field.
        File.WriteAllText(manifest, System.Text.RegularExpressions.Regex.Replace(json, "(\"Sequential\":\\s*\\{[^}]*\\}[^}]*\"Weight\":\\s*)[0-9.eE+-]+", "${1}0"));
        HierRec.Serialization.FolderChecksums.Write(folder);
        Assert.Contains("Sequential.Weight", Assert.Throws<InvalidDataException>(() => HierarchicalRecommender.Load(folder)).Message);
        // A truncated weights file is refused by its size before anything is allocated, naming it.
        File.WriteAllText(manifest, json);
        string weights = Path.Combine(folder, "sequential.safetensors");
        using (var f = new FileStream(weights, FileMode.Open)) f.SetLength(200);
        HierRec.Serialization.FolderChecksums.Write(folder);
        Assert.Contains("sequential.safetensors", Assert.Throws<InvalidDataException>(() => HierarchicalRecommender.Load(folder)).Message);
    }

    [Fact]
    public void TheDimensionIsOff_AndSaysWhy_WithoutATimeOrder()
    {
        var split = Walks(6, timestamps: false);
        var r = HierarchicalRecommender.Fit(split.Train, split.Validation, Options(new SequentialDimensionOptions { Model = Small }) with { Training = new HierarchicalTrainingOptions { Epochs = 1 } });
        Assert.Null(r.Sequential);
        Assert.Null(r.SequentialReport);
        Assert.Contains("no order", r.DisabledLayers["sequential"]);
        var off = HierarchicalRecommender.Fit(Split.Value.Train, Split.Value.Validation, Options(new SequentialDimensionOptions { Enabled = false }) with { Training = new HierarchicalTrainingOptions { Epochs = 1 } });
        Assert.Null(off.Sequential);
        Assert.False(off.DisabledLayers.ContainsKey("sequential"));
        Assert.Contains("SequentialDimensionOptions.Weights", Assert.ThrowsAny<ArgumentException>(() => new RecommenderOptions { Sequential = new SequentialDimensionOptions { Weights = [] } }.Validate()).Message);
        Assert.Contains("SequentialOptions.Heads", Assert.ThrowsAny<ArgumentException>(() => new RecommenderOptions { Sequential = new SequentialDimensionOptions { Model = new SequentialOptions { Hidden = 30, Heads = 4 } } }.Validate()).Message);
    }
}

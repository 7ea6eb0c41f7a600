using HierRec.Data;
using HierRec.Scoring;
using HierRec.Tests.Modules;
using HierRec.Text;
using HierRec.Training;
using HierRec.Users;
using TorchSharp;

namespace HierRec.Tests;

public sealed class HierarchicalRecommenderTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "hierrec-facade-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static readonly Lazy<(DataSplit Split, HierarchicalRecommender Recommender)> Fitted = new(() =>
    {
        var data = Splits.Deduplicate(Splits.ToImplicit(SyntheticDataset.Generate(new SyntheticOptions { Users = 200, Items = 300 })));
        var split = Splits.RandomRatioPerUser(data, 0.8, 0.1, 0.1, seed: 5);
        var options = new RecommenderOptions
        {
            Model = new HierarchicalOptions { Dimension = 16, TwoHop = true, MaxFriends = 8 },
            Training = new HierarchicalTrainingOptions { Epochs = 4, BatchSize = 32, LearningRate = 3e-3f },
            DomainBert = new DomainBertOptions { Epochs = 1, VocabularySize = 400, HiddenSize = 32, MaxLength = 24 },
        };
        return (split, HierarchicalRecommender.Fit(split.Train, split.Validation, options));
    });

    [Fact]
    public void Recommend_ExcludesSeenItems_AndReportsCatalogueProbabilities()
    {
        var (split, r) = Fitted.Value;
        string user = split.Train.Users.ToExternal(0);
        var seen = r.Context.Histories[0].Select(split.Train.Items.ToExternal).ToHashSet();
        var top = r.Recommend(user, 10);
        Assert.Equal(10, top.Count);
        Assert.DoesNotContain(top, t => seen.Contains(t.ItemId));
        for (int i = 1; i < top.Count; i++) Assert.True(top[i - 1].Score >= top[i].Score);
        Assert.InRange(top.Sum(t => t.Probability), 0, 1);
        var why = r.Explain(user, top[0].ItemId);
        Assert.Equal(top[0].Probability, why.Probability, 4);
        Assert.Equal(top[0].Score, why.Score, 3);
        Assert.Equal(["profile", "behaviour", "social"], why.LayerContributions.Keys);
        Assert.Equal(1.0, why.LayerContributions.Values.Sum(), 4);
        Assert.Equal(r.Context.Histories[0].Length, why.HistoryAttention.Count);
        Assert.Equal(1.0, why.HistoryAttention.Sum(h => h.Value), 3);
        Assert.Contains("Unknown user 'nobody'", Assert.Throws<KeyNotFoundException>(() => r.Recommend("nobody")).Message);
    }

    [Fact]
    public void Export_AndScore_AgreeWithRecommend_ForDotAndCosineScorers()
    {
        var (split, dot) = Fitted.Value;
        var cosine = HierarchicalRecommender.Fit(split.Train, split.Validation, new RecommenderOptions
        {
            Model = new HierarchicalOptions { Dimension = 16, Scorer = ScorerKind.Cosine, Temperature = 0.5f },
            Training = new HierarchicalTrainingOptions { Epochs = 1, BatchSize = 64, LearningRate = 3e-3f },
            DomainBert = new DomainBertOptions { Epochs = 1, VocabularySize = 400, HiddenSize = 32, MaxLength = 24 },
        });
        foreach (var r in new[] { dot, cosine })
        {
            string user = split.Train.Users.ToExternal(3);
            var top = r.Recommend(user, 20);
            // Re-scoring the served items gives the served scores (the serving transform included).
            var scores = r.Score(user, top.Select(t => t.ItemId).ToArray());
            for (int i = 0; i < top.Count; i++) Assert.Equal(top[i].Score, scores[i], 1e-4 * (1 + Math.Abs(top[i].Score))); // ranker and re-scoring sum in different orders
            Assert.Equal(r.Context.Histories[3].Select(split.Train.Items.ToExternal), r.History(user));
            Assert.DoesNotContain(top, t => r.History(user).Contains(t.ItemId));
            // An inner-product index over the exported rows ranks as the model does (rows unit-length for cosine).
            var rows = r.ExportItemVectors();
            Assert.Equal(r.ItemIds.Count * r.Dimension, rows.Length);
            var x = r.UserVector(user);
            var seen = r.History(user).ToHashSet();
            var byInnerProduct = Enumerable.Range(0, r.ItemIds.Count).Where(i => !seen.Contains(r.ItemIds[i]))
                .OrderByDescending(i => System.Numerics.Tensors.TensorPrimitives.Dot(x, rows.AsSpan(i * r.Dimension, r.Dimension)))
                .Take(5).Select(i => r.ItemIds[i]);
            Assert.Equal(top.Take(5).Select(t => t.ItemId), byInnerProduct);
        }
        Assert.Contains("Unknown item 'no-such-item' (itemIds[1])",
            Assert.Throws<KeyNotFoundException>(() => dot.Score(split.Train.Users.ToExternal(0), [dot.ItemIds[0], "no-such-item"])).Message);
    }

    [Fact]
    public void ALayerWithNoDataBehindIt_IsOffByDefault_AndSaysWhy()
    {
        var (split, _) = Fitted.Value;
        // The same interactions without user features and without friends.
        var bare = new Dataset("bare", split.Train.Users, split.Train.Items, split.Train.Interactions, new FeatureTable(split.Train.UserCount), split.Train.ItemFeatures, []);
        var r = HierarchicalRecommender.Fit(bare, null, new RecommenderOptions
        {
            Model = new HierarchicalOptions { Dimension = 16 },
            Training = new HierarchicalTrainingOptions { Epochs = 1, BatchSize = 64 },
            DomainBert = new DomainBertOptions { Epochs = 1, VocabularySize = 300, HiddenSize = 16, MaxLength = 16 },
        });
        Assert.False(r.Model.Options.UseProfile);
        Assert.False(r.Model.Options.UseSocial);
        Assert.Equal("the training data has no user features", r.DisabledLayers["profile"]);
        Assert.Equal("the training data has no social edges", r.DisabledLayers["social"]);
        var why = r.Explain(split.Train.Users.ToExternal(0), r.Recommend(split.Train.Users.ToExternal(0), 1)[0].ItemId);
        Assert.Equal(["behaviour"], why.LayerContributions.Keys);  // no "mainly for your profile" from one shared vector
        Assert.Empty(Fitted.Value.Recommender.DisabledLayers);
    }

    [Fact]
    public void NewUsers_AreServedFromProfileFriendsAndRecentItems()
    {
        var (split, r) = Fitted.Value;
        var profile = UserProfile.From(split.Train.UserFeatures, 3);
        string friend = split.Train.Users.ToExternal(4);
        string[] recent = [split.Train.Items.ToExternal(1), split.Train.Items.ToExternal(2)];
        var top = r.RecommendForNewUser(profile, [friend], recent, 5);
        Assert.Equal(5, top.Count);
        Assert.DoesNotContain(top, t => recent.Contains(t.ItemId));
        var empty = r.RecommendForNewUser(UserProfile.Empty, [], [], 5);
        Assert.Equal(5, empty.Count);
        var why = r.ExplainForNewUser(profile, [friend], recent, top[0].ItemId);
        Assert.Equal(friend, Assert.Single(why.FriendAttention).Id);
        Assert.Throws<KeyNotFoundException>(() => r.RecommendForNewUser(profile, ["no-such-user"], [], 5));
    }

    [Fact]
    public void ColdItems_UseTheirTextAlone()
    {
        var (split, r) = Fitted.Value;
        var warm = r.Model.ItemTower.Warm!;
        var trained = split.Train.Interactions.Select(x => x.Item).ToHashSet();
        for (int i = 0; i < warm.Length; i++) Assert.Equal(trained.Contains(i), warm[i]);

        // The tower itself: a cold item's vector is its text projection alone; a warm item's adds its id embedding.
        using var g = T.Gen(2);
        using var tower = new HierRec.Items.ItemTower(3, 4, 5, g);
        tower.TextVectors = T.Normal(3, 3, 5);
        tower.Warm = [true, false, true];
        using var _ = torch.no_grad();
        var all = T.Values(tower.forward());
        var textOnly = T.Values(tower.TextProjection!.forward(tower.TextVectors));
        Assert.Equal(textOnly.AsSpan(4, 4).ToArray(), all.AsSpan(4, 4).ToArray());
        Assert.NotEqual(textOnly.AsSpan(0, 4).ToArray(), all.AsSpan(0, 4).ToArray());
    }

    public static TheoryData<string> BertModes => ["freeze-bottom-1", "lora"];

    [Theory]
    [MemberData(nameof(BertModes))]
    public void JointBertFineTuning_TrainsOnlyTheChosenPart_AndServesAfterSaveLoad(string modeName)
    {
        var data = Splits.Deduplicate(Splits.ToImplicit(SyntheticDataset.Generate(new SyntheticOptions { Users = 120, Items = 150 })));
        var split = Splits.RandomRatioPerUser(data, 0.8, 0.1, 0.1, seed: 5);
        var texts = HierRec.Items.ItemTexts.FromFeatures(split.Train.ItemFeatures);
        var bert = DomainBert.Pretrain(texts, new DomainBertOptions { Epochs = 1, VocabularySize = 300, HiddenSize = 16, MaxLength = 16 }, out _);
        var before = bert.named_parameters().ToDictionary(p => p.name, p => T.Values(p.parameter));
        var mode = modeName == "lora" ? BertFineTuning.Lora(rank: 2, alpha: 4) : BertFineTuning.FreezeBottom(1);
        var r = HierarchicalRecommender.Fit(split.Train, split.Validation, new RecommenderOptions
        {
            Bert = bert, BertMode = mode,
            Model = new HierarchicalOptions { Dimension = 16 },
            Training = new HierarchicalTrainingOptions { Epochs = 2, BatchSize = 32, LearningRate = 1e-2f },
            DomainBert = new DomainBertOptions { MaxLength = 16 },
        });
        bool Changed(string name) => !before[name].SequenceEqual(T.Values(bert.named_parameters().First(p => p.name == name).parameter));
        Assert.False(Changed("embeddings.word_embeddings.weight"));
        Assert.False(Changed("encoder.layer.0.output.dense.weight"));
        if (mode.Kind == FineTuningKind.FreezeBottom) Assert.True(Changed("encoder.layer.1.output.dense.weight"));
        else Assert.Contains(bert.named_parameters(), p => p.name.EndsWith("lora_B", StringComparison.Ordinal) && T.Values(p.parameter).Any(v => v != 0));

        string folder = Path.Combine(_dir, modeName);
        r.Save(folder);
        var loaded = HierarchicalRecommender.Load(folder);
        string user = split.Train.Users.ToExternal(0);
        Assert.Equal(r.Recommend(user, 5).Select(x => x.ItemId), loaded.Recommend(user, 5).Select(x => x.ItemId));
    }

    [Fact]
    public void SaveLoad_ServesTheSameRecommendations()
    {
        var (split, r) = Fitted.Value;
        string folder = Path.Combine(_dir, "rec");
        r.Save(folder);
        Assert.True(File.Exists(Path.Combine(folder, "items.hrix")));
        Assert.True(File.Exists(Path.Combine(folder, "bert", "vocab.txt")));
        var loaded = HierarchicalRecommender.Load(folder);
        foreach (int u in new[] { 0, 7, 42 })
        {
            string user = split.Train.Users.ToExternal(u);
            var a = r.Recommend(user, 10);
            var b = loaded.Recommend(user, 10);
            Assert.Equal(a.Select(x => x.ItemId), b.Select(x => x.ItemId));
            for (int i = 0; i < a.Count; i++) Assert.Equal(a[i].Score, b[i].Score, 1e-5f * Math.Max(1f, Math.Abs(a[i].Score))); // libtorch's GEMM is not bit-reproducible; fused scores reach 25+
        }
        Assert.NotNull(loaded.Bert?.Tokenizer);
        File.WriteAllText(Path.Combine(folder, "recommender.json"), "{ not json");
        Assert.Contains("recommender.json", Assert.Throws<InvalidDataException>(() => HierarchicalRecommender.Load(folder)).Message);
    }

    [Fact]
    public void Load_RefusesAFolderWrittenBeforeThePort_AndADamagedModelFile()
    {
        var (split, r) = Fitted.Value;
        string folder = Path.Combine(_dir, "old");
        r.Save(folder);
        string manifest = Path.Combine(folder, "recommender.json");
        string json = File.ReadAllText(manifest);
        File.WriteAllText(manifest, json.Replace($"\"Version\":{HierarchicalRecommender.FormatVersion}", "\"Version\":1"));
        var ex = Assert.Throws<InvalidDataException>(() => HierarchicalRecommender.Load(folder));
        Assert.Contains("before HierRec moved to TorchSharp", ex.Message);
        File.WriteAllText(manifest, json);
        HierRec.Training.TorchCheckpoint.Save(Path.Combine(folder, "model.safetensors"), [new("items.ids.weight", torch.zeros(3, 3))]);
        var missing = Assert.Throws<InvalidDataException>(() => HierarchicalRecommender.Load(folder));
        Assert.Contains("model.safetensors", missing.Message);
    }

    [Fact]
    public void SigmoidScorer_ServesSigmaOfTheInnerProductPlusBias()
    {
        var data = Splits.Deduplicate(Splits.ToImplicit(SyntheticDataset.Generate(new SyntheticOptions { Users = 120, Items = 150 })));
        var split = Splits.RandomRatioPerUser(data, 0.8, 0.1, 0.1, seed: 5);
        var r = HierarchicalRecommender.Fit(split.Train, split.Validation, new RecommenderOptions
        {
            Model = new HierarchicalOptions { Dimension = 16, UseText = false, Scorer = ScorerKind.Sigmoid },
            Training = new HierarchicalTrainingOptions { Epochs = 2, BatchSize = 32, Loss = TrainingLoss.BinaryCrossEntropy },
            FriendItems = new HierRec.Fusion.FriendItemsOptions { Enabled = false }, // its lift is not ⟨x, E⟩ + b
        });
        string user = split.Train.Users.ToExternal(0);
        var top = r.Recommend(user, 5);
        var x = r.UserVector(user);
        var scorer = (SigmoidScorer)r.Model.Scorer;
        float b = scorer.Bias.item<float>();
        foreach (var rec in top)
        {
            float dot = System.Numerics.Tensors.TensorPrimitives.Dot(x, r.Index.GetVector(rec.ItemIndex));
            Assert.Equal(1 / (1 + MathF.Exp(-(dot + b))), rec.Score, 5);
            Assert.InRange(rec.Score, 0f, 1f);
        }
    }

    [Fact]
    public void TheDeviceOption_PlacesEveryTensorOfTheModel()
    {
        // CUDA is not served here; the CPU path checks that the option is followed everywhere a tensor lives.
        var data = Splits.Deduplicate(Splits.ToImplicit(SyntheticDataset.Generate(new SyntheticOptions { Users = 80, Items = 90 })));
        var split = Splits.RandomRatioPerUser(data, 0.8, 0.1, 0.1, seed: 5);
        var r = HierarchicalRecommender.Fit(split.Train, split.Validation, new RecommenderOptions
        {
            Model = new HierarchicalOptions { Dimension = 8, UseText = false },
            Training = new HierarchicalTrainingOptions { Epochs = 1, BatchSize = 32 },
            Device = torch.CPU,
        });
        Assert.Equal(DeviceType.CPU, r.Model.Device.type);
        Assert.All(r.Model.parameters(), p => Assert.Equal(DeviceType.CPU, p.device.type));
        Assert.Equal(DeviceType.CPU, r.ItemVectors.device.type);
        if (r.Model.BehaviourTable is { } table) Assert.Equal(DeviceType.CPU, table.device.type);
        string folder = Path.Combine(_dir, "device");
        r.Save(folder);
        var loaded = HierarchicalRecommender.Load(folder, torch.CPU);
        Assert.All(loaded.Model.parameters(), p => Assert.Equal(DeviceType.CPU, p.device.type));
    }
}

using FsCheck;
using FsCheck.Fluent;
using HierRec.Data;
using HierRec.Ranking;
using HierRec.Scoring;
using HierRec.Text;
using HierRec.Training;
using HierRec.Tests.Text;

namespace HierRec.Tests.Reliability;

/// <summary>Properties (FsCheck) of the ranker, the splits and persistence, over random inputs.</summary>
[Trait("Category", "Hostile")]
public sealed class PropertyTests
{
    private sealed record IndexCase(int Count, int Dimension, VectorPrecision Precision, Similarity Similarity, int K, int Seed, double Keep);

    private static Gen<IndexCase> IndexCases() =>
        from n in Gen.Choose(1, 300)
        from d in Gen.Choose(1, 40)
        from p in Gen.Elements(VectorPrecision.Float32, VectorPrecision.Float16, VectorPrecision.Int8)
        from s in Gen.Elements(Similarity.DotProduct, Similarity.Cosine)
        from k in Gen.Choose(1, 350)
        from seed in Gen.Choose(0, int.MaxValue)
        from keep in Gen.Elements(0.0, 0.1, 0.5, 1.0)
        select new IndexCase(n, d, p, s, k, seed, keep);

    [Fact]
    public void ItemIndex_TopKEqualsAFullSort_ForAnyFilterAndPrecision_WithProbabilitiesThatSumToAtMostOne()
    {
        Prop.ForAll(IndexCases().ToArbitrary(), c =>
        {
            var rng = new Rng((ulong)c.Seed);
            var items = new float[c.Count * c.Dimension];
            rng.FillNormal(items, 0, 1);
            for (int i = 0; i < items.Length; i += 7) items[i] = MathF.Round(items[i]); // ties and zero rows happen
            var query = new float[c.Dimension];
            rng.FillNormal(query, 0, 1);
            var allowed = Enumerable.Range(0, c.Count).Where(_ => rng.NextDouble() < c.Keep).ToHashSet();
            using var index = ItemIndex.Create(items, c.Count, c.Dimension, c.Precision, c.Similarity);
            var exact = new float[c.Count];
            index.Score(query, exact);
            var expected = allowed.OrderByDescending(i => exact[i]).ThenBy(i => i).Take(c.K).ToArray();
            // A re-rank pool of the whole catalogue makes the quantised indexes exact too.
            var top = index.Rank(query, c.K, new RankOptions { Filter = ItemFilter.AllowOnly(allowed), RerankPool = c.Count });
            if (top.Length != expected.Length) return false.Label($"{top.Length} results, {expected.Length} expected");
            for (int i = 0; i < top.Length; i++)
            {
                if (!allowed.Contains(top[i].ItemIndex)) return false.Label($"item {top[i].ItemIndex} is filtered out");
                float want = exact[expected[i]];
                if (Math.Abs(top[i].Score - want) > 1e-4f * Math.Max(1, Math.Abs(want))) return false.Label($"rank {i}: score {top[i].Score}, full sort {want}");
            }
            double sum = top.Sum(x => (double)x.Probability);
            return (top.All(x => x.Probability is >= 0 and <= 1) && sum <= 1 + 1e-6).Label($"probabilities sum to {sum}");
        }).QuickCheckThrowOnFailure();
    }

    private static Dataset RandomData(int users, int items, int interactions, int seed)
    {
        var rng = new Rng((ulong)seed);
        var userMap = new IdMap();
        var itemMap = new IdMap();
        for (int u = 0; u < users; u++) userMap.GetOrAdd("u" + u);
        for (int i = 0; i < items; i++) itemMap.GetOrAdd("i" + i);
        var list = Enumerable.Range(0, interactions).Select(t => new Interaction(rng.NextInt(users), rng.NextInt(items), 1, rng.NextInt(1000))).ToList();
        return new Dataset("random", userMap, itemMap, list, new FeatureTable(users), new FeatureTable(items), []);
    }

    [Fact]
    public void Splits_PartitionTheInteractions()
    {
        var cases = from users in Gen.Choose(1, 40)
                    from items in Gen.Choose(1, 60)
                    from n in Gen.Choose(0, 400)
                    from seed in Gen.Choose(0, int.MaxValue)
                    select (users, items, n, seed);
        Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var data = Splits.Deduplicate(RandomData(c.users, c.items, c.n, c.seed));
            static string Key(Interaction x) => $"{x.User}/{x.Item}/{x.Timestamp}";
            var all = data.Interactions.Select(Key).Order(StringComparer.Ordinal).ToArray();
            foreach (var split in new[] { Splits.RandomRatioPerUser(data, 0.8, 0.1, 0.1, (ulong)c.seed), Splits.ChronologicalRatioPerUser(data, 0.7, 0.15, 0.15), Splits.LeaveOneOut(data) })
            {
                var parts = split.Train.Interactions.Concat(split.Validation.Interactions).Concat(split.Test.Interactions).Select(Key).Order(StringComparer.Ordinal).ToArray();
                if (!parts.SequenceEqual(all)) return false.Label("the three parts are not the interactions, each once");
            }
            return true.ToProperty();
        }).QuickCheckThrowOnFailure();
    }

    private sealed record ModelCase(int Dimension, FusionKind Fusion, ScorerKind Scorer, bool Social, bool TwoHop, bool HistoryEmbeddings, bool UserEmbeddings, int Seed);

    [Fact]
    public void LoadOfSave_IsTheSameRecommender_ForRandomSmallModels()
    {
        var cases = from d in Gen.Elements(8, 16)
                    from fusion in Gen.Elements(Enum.GetValues<FusionKind>())
                    from scorer in Gen.Elements(Enum.GetValues<ScorerKind>())
                    from social in Gen.Elements(true, false)
                    from twoHop in Gen.Elements(true, false)
                    from history in Gen.Elements(true, false)
                    from userIds in Gen.Elements(true, false)
                    from seed in Gen.Choose(1, 1000)
                    select new ModelCase(d, fusion, scorer, social, twoHop, history, userIds, seed);
        string root = Path.Combine(Path.GetTempPath(), "hierrec-roundtrip-" + Guid.NewGuid().ToString("N"));
        try
        {
            Prop.ForAll(cases.ToArbitrary(), c =>
            {
                var data = Splits.Deduplicate(Splits.ToImplicit(SyntheticDataset.Generate(new SyntheticOptions { Users = 30, Items = 40, MeanInteractions = 8, Seed = (ulong)c.Seed })));
                var split = Splits.RandomRatioPerUser(data, 0.8, 0.1, 0.1, (ulong)c.Seed);
                var r = HierarchicalRecommender.Fit(split.Train, null, new RecommenderOptions
                {
                    Model = new HierarchicalOptions
                    {
                        Dimension = c.Dimension, Fusion = c.Fusion, Scorer = c.Scorer, UseSocial = c.Social, TwoHop = c.TwoHop,
                        HistoryEmbeddings = c.HistoryEmbeddings, UserEmbeddings = c.UserEmbeddings, MaxFriends = 4,
                    },
                    Training = new HierarchicalTrainingOptions { Epochs = 1, BatchSize = 16 },
                    DomainBert = new DomainBertOptions { Epochs = 1, VocabularySize = 200, HiddenSize = 16, Layers = 1, MaxLength = 12 },
                    Seed = (ulong)c.Seed,
                });
                string folder = Path.Combine(root, Guid.NewGuid().ToString("N"));
                r.Save(folder);
                var loaded = HierarchicalRecommender.Load(folder);
                if (!r.ExportItemVectors().SequenceEqual(loaded.ExportItemVectors())) return false.Label("item vectors differ");
                var before = TorchCheckpoint.State(r.Model).ToDictionary(kv => kv.Key, kv => TorchAssert.Values(kv.Value));
                foreach (var (name, value) in TorchCheckpoint.State(loaded.Model))
                    if (!before.TryGetValue(name, out var saved) || !saved.SequenceEqual(TorchAssert.Values(value))) return false.Label($"tensor {name} differs");
                // The state is bit for bit the same. Served values agree to float rounding, not bit for bit: libtorch's MKL
                // GEMM rounds differently with buffer alignment unless MKL_CBWR=COMPATIBLE is set (see the README).
                foreach (int u in new[] { 0, 7, 19 })
                {
                    string user = split.Train.Users.ToExternal(u);
                    var x = r.UserVector(user);
                    var y = loaded.UserVector(user);
                    if (x.Zip(y).Any(p => Math.Abs(p.First - p.Second) > 1e-5f * Math.Max(1, Math.Abs(p.First)))) return false.Label($"user {user}'s vector differs");
                    var a = r.Recommend(user, 10);
                    var b = loaded.Recommend(user, 10);
                    for (int i = 0; i < a.Count; i++)
                    {
                        if (Math.Abs(a[i].Score - b[i].Score) > 1e-4f * Math.Max(1, Math.Abs(a[i].Score))) return false.Label($"user {user}'s score {i} differs");
                        bool tie = i + 1 < a.Count && Math.Abs(a[i].Score - a[i + 1].Score) < 1e-4f || i > 0 && Math.Abs(a[i].Score - a[i - 1].Score) < 1e-4f;
                        if (a[i].ItemId != b[i].ItemId && !tie) return false.Label($"user {user}'s item {i} differs");
                    }
                }
                if (!r.ItemIds.SequenceEqual(loaded.ItemIds)) return false.Label("item ids differ");
                for (int u = 0; u < split.Train.UserCount; u++)
                    if (!r.Context.Histories[u].SequenceEqual(loaded.Context.Histories[u]) || !r.Context.Neighbours[u].SequenceEqual(loaded.Context.Neighbours[u]))
                        return false.Label($"user {u}'s history or friends differ");
                return true.ToProperty();
            }).Check(Config.QuickThrowOnFailure.WithMaxTest(4));
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }
}

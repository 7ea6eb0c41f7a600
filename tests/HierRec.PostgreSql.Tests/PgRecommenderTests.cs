using HierRec.Data;
using HierRec.Text;
using HierRec.Training;

namespace HierRec.PostgreSql.Tests;

/// <summary>Candidates from PostgreSQL re-ranked by HierRec, against in-process serving of the same model.</summary>
public sealed class PgRecommenderTests
{
    private static readonly Lazy<(DataSplit Split, HierarchicalRecommender Recommender)> Fitted = new(() =>
    {
        var data = Splits.Deduplicate(Splits.ToImplicit(SyntheticDataset.Generate(new SyntheticOptions { Users = 150, Items = 240 })));
        var split = Splits.RandomRatioPerUser(data, 0.8, 0.1, 0.1, seed: 3);
        return (split, HierarchicalRecommender.Fit(split.Train, split.Validation, new RecommenderOptions
        {
            Model = new HierarchicalOptions { Dimension = 16, MaxFriends = 8 },
            Training = new HierarchicalTrainingOptions { Epochs = 3, BatchSize = 32, LearningRate = 3e-3f },
            DomainBert = new DomainBertOptions { Epochs = 1, VocabularySize = 400, HiddenSize = 32, MaxLength = 24 },
        }));
    });

    private static string[] Users(DataSplit split, int count) => Enumerable.Range(0, count).Select(u => split.Train.Users.ToExternal(u * 7 % split.Train.UserCount)).ToArray();

    [PgFact]
    public async Task RecommendAsync_WithEveryItemAsCandidate_ServesTheInProcessTopK()
    {
        var (split, r) = Fitted.Value;
        await using var ds = PgServer.DataSource();
        var store = new PgItemStore(ds, PgServer.Prefix());
        var version = await PgRecommender.PublishAsync(store, r, "synthetic-1");
        Assert.Equal(r.ItemIds.Count, version.Items);
        Assert.Equal(r.Dimension, version.Dimension);
        var pg = new PgRecommender(r, store) { Candidates = r.ItemIds.Count, EfSearch = 1000 };
        foreach (string user in Users(split, 12))
        {
            var local = r.Recommend(user, 10);
            var served = await pg.RecommendAsync(user, 10);
            Assert.Equal(local.Select(x => x.ItemId), served.Select(x => x.ItemId));
            for (int i = 0; i < 10; i++)
            {
                Assert.Equal(local[i].Score, served[i].Score, 1e-4 * (1 + Math.Abs(local[i].Score))); // two summation orders (SIMD ranker, re-scoring)
                // Over every unseen item, the candidate softmax is the catalogue's P(i|u) minus the seen items' mass:
                // never smaller than the catalogue probability.
                Assert.True(served[i].ProbabilityAmongCandidates >= local[i].Probability - 1e-6,
                    $"{served[i].ProbabilityAmongCandidates} < {local[i].Probability}");
            }
            Assert.DoesNotContain(served, s => r.History(user).Contains(s.ItemId));
        }
    }

    [PgFact]
    public async Task RecommendAsync_FromFewCandidates_KeepsTheTopK_FiltersCategories_AndKeepsUnknownItemsDatabaseScore()
    {
        var (split, r) = Fitted.Value;
        await using var ds = PgServer.DataSource();
        var store = new PgItemStore(ds, PgServer.Prefix());
        var categories = r.ItemIds.Select((_, i) => (IReadOnlyList<string>?)[i % 2 == 0 ? "even" : "odd"]).ToArray();
        await PgRecommender.PublishAsync(store, r, "synthetic-1", new PgPublishOptions { Categories = categories });
        var pg = new PgRecommender(r, store) { Candidates = 40, EfSearch = 100 };
        var even = r.ItemIds.Where((_, i) => i % 2 == 0).ToHashSet();
        int overlap = 0;
        var users = Users(split, 12);
        foreach (string user in users)
        {
            var local = r.Recommend(user, 10).Select(x => x.ItemId).ToHashSet();
            var served = await pg.RecommendAsync(user, 10);
            Assert.Equal(10, served.Count);
            overlap += served.Count(s => local.Contains(s.ItemId));
            for (int i = 1; i < served.Count; i++) Assert.True(served[i - 1].Score >= served[i].Score);
            Assert.InRange(served.Sum(s => s.ProbabilityAmongCandidates), 0, 1 + 1e-9);

            var localEven = r.Recommend(user, r.ItemIds.Count).Where(x => even.Contains(x.ItemId)).Take(10).Select(x => x.ItemId);
            var servedEven = await pg.RecommendAsync(user, 10, anyCategory: ["even"]);
            Assert.All(servedEven, s => Assert.Contains(s.ItemId, even));
            Assert.True(servedEven.Select(s => s.ItemId).Intersect(localEven).Count() >= 8, "HNSW with a category filter should keep most of the exact filtered top 10");
        }
        Assert.True(overlap >= 0.95 * 10 * users.Length, $"{overlap} of {10 * users.Length} in-process items served from 40 HNSW candidates");

        // An item upserted after training has no HierRec vector: it keeps the database's score.
        string someone = users[0];
        var x = r.UserVector(someone);
        var boosted = x.Select(v => v * 50f).ToArray();
        await store.UpsertAsync(["published-later"], boosted, r.Dimension);
        var withNew = await pg.RecommendAsync(someone, 10);
        Assert.Equal("published-later", withNew[0].ItemId);
        Assert.Equal(System.Numerics.Tensors.TensorPrimitives.Dot(x, boosted), withNew[0].Score, 2);

        // A re-scorer that returns the wrong number of scores is a clear error, not a silent mis-ranking.
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => pg.RecommendAsync(someone, 10, ids => new float[ids.Count - 1]));
        Assert.Contains("re-scorer returned", error.Message);
        await Assert.ThrowsAsync<KeyNotFoundException>(() => pg.RecommendAsync("no-such-user", 10));
    }
}

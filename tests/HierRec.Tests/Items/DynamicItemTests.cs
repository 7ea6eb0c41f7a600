using HierRec.Data;
using HierRec.Items;
using HierRec.Text;
using HierRec.Training;

namespace HierRec.Tests.Items;

public sealed class ContextEncoderTests
{
    [Fact]
    public void TimeFeatures_AreCyclic_SoMidnightNeighboursAreClose()
    {
        var before = ContextEncoder.Features(new RequestContext(new DateTimeOffset(2024, 3, 4, 23, 30, 0, TimeSpan.Zero)));
        var after = ContextEncoder.Features(new RequestContext(new DateTimeOffset(2024, 3, 5, 0, 30, 0, TimeSpan.Zero)));
        var noon = ContextEncoder.Features(new RequestContext(new DateTimeOffset(2024, 3, 5, 12, 0, 0, TimeSpan.Zero)));
        static double Dist(float[] a, float[] b) => Math.Sqrt(a.Take(2).Zip(b.Take(2)).Sum(p => (p.First - p.Second) * (p.First - p.Second)));
        Assert.True(Dist(before, after) < 0.3);
        Assert.True(Dist(after, noon) > 1.9);
        Assert.Equal((float)Math.Sin(2 * Math.PI * 12 / 24), noon[0], 5);
        Assert.Equal(-1f, noon[1], 5);                                   // cos of noon
        Assert.Equal(1f, noon[5]);                                        // has time
        Assert.Equal(0f, noon[6]);                                        // no last interaction
    }

    [Fact]
    public void Recency_IsTheLogOfHoursSinceTheLastInteraction()
    {
        var f = ContextEncoder.Features(RequestContext.AtUnixTime(1_000_000 + 9 * 3600, 1_000_000));
        Assert.Equal((float)(Math.Log(10) / 5), f[4], 5);
        Assert.Equal(1f, f[6]);
        Assert.All(ContextEncoder.Features(RequestContext.None), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void UnknownCategories_MapToTheLearntUnknownVector_NeverThrow()
    {
        var schema = new ContextSchema(new Dictionary<string, IReadOnlyList<string>> { ["page"] = ["home", "search"], ["device"] = ["phone"] });
        using var g = HierRec.Tests.Modules.T.Gen(1);
        using var encoder = new ContextEncoder(8, schema, g);
        using var _ = TorchSharp.torch.no_grad();
        var fields = new[]
        {
            new Dictionary<string, string> { ["page"] = "checkout", ["device"] = "tv" },   // both unknown values
            new Dictionary<string, string>(),                                              // both missing
            new Dictionary<string, string> { ["page"] = "home", ["colour"] = "red" },      // known + unknown field
        };
        var v = HierRec.Tests.Modules.T.Values(encoder.Encode(fields.Select(f => new RequestContext(Fields: f)).ToArray()));
        Assert.Equal(v.AsSpan(0, 8).ToArray(), v.AsSpan(8, 8).ToArray());
        Assert.NotEqual(v.AsSpan(0, 8).ToArray(), v.AsSpan(16, 8).ToArray());
        Assert.All(v, x => Assert.True(float.IsFinite(x)));
    }
}

/// <summary>A small base model and dynamic layers on synthetic data with a time-of-day signal, shared by the tests.</summary>
internal static class DynamicFixture
{
    public static readonly Lazy<(Dataset Data, Dataset Base, Dataset Tune, List<Interaction> Stream, HierarchicalRecommender Model)> Base = new(() =>
    {
        var data = Splits.Deduplicate(Splits.ToImplicit(SyntheticDataset.Generate(new SyntheticOptions { Users = 160, Items = 160, TimeOfDaySignal = 0.7 })));
        var ordered = data.Interactions.OrderBy(x => x.Timestamp).ToList();
        int a = ordered.Count * 6 / 10, b = ordered.Count * 8 / 10;
        // Item 0 never occurs in the base period: it is a new item served from its text.
        var basePart = data.WithInteractions(ordered[..a].Where(x => x.Item != 0).ToList());
        var tune = data.WithInteractions(ordered[a..b].Concat(ordered[..a].Where(x => x.Item == 0)).OrderBy(x => x.Timestamp).ToList());
        var model = HierarchicalRecommender.Fit(basePart, tune, new RecommenderOptions
        {
            Model = new HierarchicalOptions { Dimension = 16, MaxFriends = 8 },
            Training = new HierarchicalTrainingOptions { Epochs = 3, BatchSize = 32, LearningRate = 5e-3f },
            DomainBert = new DomainBertOptions { Epochs = 1, VocabularySize = 300, HiddenSize = 16, MaxLength = 16 },
        });
        return (data, basePart, tune, ordered[b..], model);
    });

    public static DynamicRecommender Fit(DynamicOptions? options = null)
    {
        var (_, basePart, tune, _, model) = Base.Value;
        return DynamicRecommender.Fit(model, basePart, tune, options ?? new DynamicOptions { Epochs = 1, Candidates = 40, Negatives = 15, BatchSize = 64 });
    }
}

public sealed class DynamicRecommenderTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "hierrec-dynamic-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    /// <summary>
    /// Serving and online updates leave no TorchSharp tensor to the GC's finalizer thread (which, freeing a temporary a
    /// native call still uses, corrupts libtorch's heap): a service calls these for as long as it runs.
    /// </summary>
    [Fact]
    public void ServingAndUpdates_LeaveNoTensorForTheFinalizer()
    {
        var dyn = DynamicFixture.Fit();
        var (data, _, _, stream, _) = DynamicFixture.Base.Value;
        string user = data.Users.ToExternal(9);
        var context = RequestContext.AtUnixTime(stream[0].Timestamp);
        dyn.Recommend(user, context, 10);
        dyn.Update(stream.Take(20).ToList()); // warm: lazy state (the optimiser's moments) is created once
        var stats = TorchSharp.DisposeScopeManager.Statistics.TensorStatistics;
        long before = stats.ThreadTotalLiveCount;
        var top = dyn.Recommend(user, context, 10);
        dyn.Explain(user, top[0].ItemId, context);
        dyn.RecommendStatic(user, 10, served: true);
        dyn.Update(stream.Skip(20).Take(20).ToList());
        dyn.Recommend(data.Users.ToExternal(10), RequestContext.AtUnixTime(stream[30].Timestamp), 10);
        Assert.Equal(before, stats.ThreadTotalLiveCount);
    }

    /// <summary>
    /// Disposing frees the dynamic layers (and the base recommender when Load made it, not when the caller passed it to
    /// Fit), and afterwards every model operation is refused by name instead of touching freed memory.
    /// </summary>
    [Fact]
    public void Dispose_FreesTheLayers_KeepsACallersBase_AndRefusesWork()
    {
        var (data, _, _, stream, model) = DynamicFixture.Base.Value;
        string user = data.Users.ToExternal(9);
        var context = RequestContext.AtUnixTime(stream[0].Timestamp);
        using (var warm = DynamicFixture.Fit()) warm.Recommend(user, context, 10);
        var stats = TorchSharp.DisposeScopeManager.Statistics.TensorStatistics;
        long before = stats.ThreadTotalLiveCount;
        var dyn = DynamicFixture.Fit();
        var top = dyn.Recommend(user, context, 10);
        dyn.Update(stream.Take(10).ToList());
        Assert.True(stats.ThreadTotalLiveCount > before);
        dyn.Dispose();
        Assert.Equal(before, stats.ThreadTotalLiveCount);
        Assert.True(dyn.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => dyn.Recommend(user, context, 10));
        Assert.Throws<ObjectDisposedException>(() => dyn.Score(user, context, [top[0].ItemId]));
        Assert.Throws<ObjectDisposedException>(() => dyn.Explain(user, top[0].ItemId, context));
        Assert.Throws<ObjectDisposedException>(() => dyn.RecommendStatic(user, 10));
        Assert.Throws<ObjectDisposedException>(() => dyn.Update(stream.Skip(10).Take(5).ToList()));
        Assert.Throws<ObjectDisposedException>(() => dyn.Observe(stream.Skip(10).Take(5).ToList()));
        Assert.Throws<ObjectDisposedException>(() => dyn.Save(Path.Combine(_dir, "never")));
        Assert.False(Directory.Exists(Path.Combine(_dir, "never")));
        dyn.Dispose(); // harmless
        Assert.False(model.IsDisposed); // the caller's base recommender
        Assert.NotEmpty(model.Recommend(user, 3));

        // A loaded one owns the base recommender it loaded, and frees it too.
        using (var saved = DynamicFixture.Fit()) saved.Save(_dir);
        using (var warm = DynamicRecommender.Load(_dir)) warm.Recommend(user, context, 10);
        before = stats.ThreadTotalLiveCount;
        var loaded = DynamicRecommender.Load(_dir);
        loaded.Recommend(user, context, 10);
        loaded.Dispose();
        Assert.True(loaded.Base.IsDisposed);
        Assert.Equal(before, stats.ThreadTotalLiveCount);
    }

    [Fact]
    public void TheServedStaticRanking_IsTheBaseRecommendersOwn_OnTheObservedHistory()
    {
        var dyn = DynamicFixture.Fit();
        var (data, _, _, _, model) = DynamicFixture.Base.Value;
        string user = data.Users.ToExternal(9);
        // On the training history it is exactly what the base recommender serves (fused dimensions included).
        var own = model.RecommendWithHistory(9, model.Context.Histories[9], 10);
        var served = model.Recommend(user, 10);
        Assert.Equal(served.Select(r => r.ItemId), own.Select(r => r.ItemId));
        for (int i = 0; i < 10; i++) Assert.Equal(served[i].Score, own[i].Score, 1e-3f);
        // On the observed history (the dynamic fit observed the tuning period): those items are excluded.
        var seen = dyn.HistoryOf(user).ToHashSet();
        var top = dyn.RecommendStatic(user, 10, served: true);
        Assert.Equal(10, top.Count);
        Assert.DoesNotContain(top, r => seen.Contains(r.ItemIndex));
        for (int i = 1; i < top.Count; i++) Assert.True(top[i - 1].Score >= top[i].Score);
        Assert.Equal(model.RecommendWithHistory(9, dyn.HistoryOf(user).ToArray(), 10).Select(r => r.ItemId), top.Select(r => r.ItemId));
    }

    [Fact]
    public void TwoStageServing_ReRanksTheStaticCandidates_AndDependsOnTheContext()
    {
        var dyn = DynamicFixture.Fit();
        var (data, _, _, _, _) = DynamicFixture.Base.Value;
        string user = data.Users.ToExternal(5);
        var seen = dyn.HistoryOf(user).ToHashSet();
        var candidates = dyn.RecommendStatic(user, 40).Select(r => r.ItemIndex).ToHashSet();
        var night = dyn.Recommend(user, RequestContext.AtUnixTime(1_600_000_000 + 2 * 3600), 10);
        var noon = dyn.Recommend(user, RequestContext.AtUnixTime(1_600_000_000 + 13 * 3600), 10);
        Assert.Equal(10, night.Count);
        Assert.All(night, r => Assert.Contains(r.ItemIndex, candidates));
        Assert.DoesNotContain(night, r => seen.Contains(r.ItemIndex));
        for (int i = 1; i < night.Count; i++) Assert.True(night[i - 1].Score >= night[i].Score);
        var scoresNight = dyn.Score(user, RequestContext.AtUnixTime(1_600_000_000 + 2 * 3600), night.Select(r => r.ItemId).ToArray());
        var scoresNoon = dyn.Score(user, RequestContext.AtUnixTime(1_600_000_000 + 13 * 3600), night.Select(r => r.ItemId).ToArray());
        // To rounding: the re-rank of 200 candidates and the scoring of 10 run libtorch kernels of different shapes.
        var served = night.Select(r => r.Score).ToArray();
        for (int i = 0; i < served.Length; i++) Assert.Equal(served[i], scoresNight[i], 1e-4f);
        Assert.NotEqual(scoresNight, scoresNoon);
    }

    [Fact]
    public async Task Update_SwapsSnapshotsAtomically_UnderConcurrentReaders()
    {
        var dyn = DynamicFixture.Fit();
        var (data, _, _, stream, _) = DynamicFixture.Base.Value;
        var user = data.Users.ToExternal(7);
        int u = 7;
        var items = dyn.RecommendStatic(user, 20).Select(r => r.ItemIndex).ToArray();
        var context = RequestContext.AtUnixTime(1_600_000_000);
        // Every score a reader sees must equal the scores of one whole snapshot, recomputed afterwards from that snapshot.
        var seen = new System.Collections.Concurrent.ConcurrentBag<(long Version, float[] Scores)>();
        // The first hold taken on each version is kept, so the snapshot outlives its replacement for the check below
        // (a replaced snapshot is disposed once no reader holds it).
        var snapshots = new System.Collections.Concurrent.ConcurrentDictionary<long, DynamicRecommender.SnapshotLease>();
        using var stop = new CancellationTokenSource();
        var readers = Enumerable.Range(0, 3).Select(_ => Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                var lease = dyn.Hold();
                var s = lease.Snapshot;
                seen.Add((s.Version, dyn.Score(s, u, context, items)));
                if (!snapshots.TryAdd(s.Version, lease)) lease.Dispose();
            }
        })).ToArray();
        var otherUsers = stream.Where(x => x.User != u).ToList();
        for (int k = 0; k < 4; k++)
        {
            dyn.Update(otherUsers.Skip(k * 20).Take(20).ToList());
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (!seen.Any(x => x.Version == k + 1) && DateTime.UtcNow < deadline) Thread.Sleep(1); // a reader has served the new snapshot
        }
        stop.Cancel();
        await Task.WhenAll(readers);
        Assert.Equal(4, dyn.Version);
        Assert.True(seen.Select(x => x.Version).Distinct().Count() >= 2, "readers saw more than one snapshot");
        // Snapshots differ far more than rounding does, so a tolerance of 1e-5 still tells a mix of two snapshots apart.
        foreach (var (version, scores) in seen)
        {
            var expected = dyn.Score(snapshots[version].Snapshot, u, context, items);
            for (int i = 0; i < scores.Length; i++) Assert.Equal(expected[i], scores[i], 1e-5f);
        }
        // Released, the replaced snapshots are disposed; the one in service is not.
        foreach (var lease in snapshots.Values) lease.Dispose();
        foreach (var (version, lease) in snapshots)
            Assert.Equal(version != dyn.Version, lease.Snapshot.Layers.parameters().All(p => p.IsInvalid));
    }

    [Fact]
    public void Update_ChangesOnlyTheDynamicLayers_AndAppendsHistory()
    {
        var dyn = DynamicFixture.Fit();
        var (data, _, _, stream, model) = DynamicFixture.Base.Value;
        var before = model.Model.state_dict().ToDictionary(p => p.Key, p => HierRec.Tests.Modules.T.Values(p.Value));
        var gateBefore = HierRec.Tests.Modules.T.Values(dyn.Current.Items.Gate.weight!);
        var batch = stream.Take(50).ToList();
        var x = batch[0];
        int lengthBefore = dyn.HistoryOf(data.Users.ToExternal(x.User)).Count;
        var report = dyn.Update(batch);
        Assert.Equal(50, report.NewExamples);
        Assert.True(report.ReplayedExamples > 0);
        Assert.Equal(1, report.Version);
        Assert.NotEqual(gateBefore, HierRec.Tests.Modules.T.Values(dyn.Current.Items.Gate.weight!));
        foreach (var (name, p) in model.Model.state_dict()) Assert.Equal(before[name], HierRec.Tests.Modules.T.Values(p));
        var history = dyn.HistoryOf(data.Users.ToExternal(x.User));
        Assert.Equal(lengthBefore + batch.Count(y => y.User == x.User), history.Count);
        Assert.Equal(batch.Last(y => y.User == x.User).Item, history[0]); // most recent first
    }

    [Fact]
    public void Explain_SplitsTheScore_IntoStaticPart_AndTheContextsLeaveOneOutEffect()
    {
        var dyn = DynamicFixture.Fit();
        var (data, _, _, _, _) = DynamicFixture.Base.Value;
        string user = data.Users.ToExternal(11);
        var context = RequestContext.AtUnixTime(1_600_000_000 + 20 * 3600);
        var top = dyn.Recommend(user, context, 3);
        var all = dyn.Explain(user, top[0].ItemId, context);
        var why = all.Dynamic!;
        Assert.Equal(top[0].Score, why.Score, 4);
        Assert.Equal(top[0].StaticScore, why.StaticScore, 4);
        Assert.Equal(1.0, why.HistoryAttention.Sum(a => a.Value) + why.ContextAttention, 4);
        Assert.InRange(why.ContextAttention, 1e-6, 1);
        // One record: the first stage's layers and the second stage's, each with its signed attribution.
        Assert.Equal(["profile", "behaviour", "social", "context", "item dynamics"], all.LayerAttributions.Keys);
        Assert.Equal(why.ContextEffect, all.LayerAttributions["context"], 4);
        Assert.Equal(why.Score - why.StaticScore, all.LayerAttributions["context"] + all.LayerAttributions["item dynamics"], 4);
        Assert.NotEmpty(all.HistoryAttributions);
        // Without the context token the score no longer depends on the context.
        var other = dyn.ExplainDynamic(user, top[0].ItemId, RequestContext.AtUnixTime(1_600_000_000 + 8 * 3600));
        Assert.Equal(why.Score - why.ContextEffect, other.Score - other.ContextEffect, 4);
        Assert.NotEqual(why.Score, other.Score);
    }

    [Fact]
    public void ItemDynamics_CountOnlyInteractionsBeforeTheRequest()
    {
        var dyn = DynamicFixture.Fit();
        var (data, basePart, tune, _, _) = DynamicFixture.Base.Value;
        var times = basePart.Interactions.Concat(tune.Interactions).GroupBy(x => x.Item).OrderByDescending(g => g.Count()).First();
        int item = times.Key;
        var sorted = times.Select(x => x.Timestamp).Order().ToArray();
        long t = sorted[sorted.Length / 2];
        int before = sorted.Count(x => x < t), lastDay = sorted.Count(x => x < t && x >= t - 86_400), lastWeek = sorted.Count(x => x < t && x >= t - 7 * 86_400);
        var f = dyn.ItemFeaturesAt(item, t);
        Assert.Equal(MathF.Log(1 + lastDay), f[0], 5);
        Assert.Equal(MathF.Log(1 + lastWeek), f[1], 5);
        Assert.Equal(MathF.Log(1 + before) / 2, f[2], 5);
        Assert.Equal(MathF.Log(1 + (t - sorted[0]) / 86_400f) / 2, f[3], 5);
        Assert.Equal(0f, f[4]);
        Assert.Equal([0f, 0f, 0f, 0f, 1f], dyn.ItemFeaturesAt(item, sorted[0])); // nothing strictly before the first
    }

    /// <summary>A window that makes about a tenth of the fixture's catalogue new as of its latest interaction.</summary>
    private static long TenthNewWindow(List<HierRec.Data.Interaction> seen)
    {
        long clock = seen.Max(x => x.Timestamp);
        var first = seen.GroupBy(x => x.Item).ToDictionary(g => g.Key, g => g.Min(x => x.Timestamp));
        return clock - first.Values.OrderDescending().ElementAt(first.Count / 10) + 1;
    }

    [Fact]
    public void NoveltyCounts_AreTheInteractionsWithItemsNewAtTheTime_OutsideTheLogsFirstWindow()
    {
        var (data, basePart, tune, stream, _) = DynamicFixture.Base.Value;
        var seen = basePart.Interactions.Concat(tune.Interactions).ToList();
        long window = TenthNewWindow(seen);
        var dyn = DynamicFixture.Fit(new DynamicOptions { Epochs = 1, Candidates = 40, Negatives = 15, BatchSize = 64, NewItemWindow = TimeSpan.FromSeconds(window) });
        var later = stream.Take(200).ToList();
        dyn.Observe(later);
        // Recounted here from the interactions in time order: an interaction counts when it is at least a window after
        // the log's first; it is "new" when its item's first interaction (this one included) is less than a window before.
        // Batch by batch, as they were given: the base, the first fit's, then the observed ones.
        long start = long.MaxValue;
        var first = new Dictionary<int, long>();
        var counts = new (int Seen, int New)[data.UserCount];
        foreach (var batch in new[] { basePart.Interactions, tune.Interactions, later })
        {
            start = Math.Min(start, batch.Min(x => x.Timestamp));
            foreach (var x in batch.OrderBy(x => x.Timestamp))
            {
                first[x.Item] = Math.Min(first.GetValueOrDefault(x.Item, long.MaxValue), x.Timestamp);
                if (x.Timestamp - start < window) continue;
                counts[x.User].Seen++;
                if (x.Timestamp - first[x.Item] < window) counts[x.User].New++;
            }
        }
        Assert.Contains(counts, c => c.New > 0);
        Assert.Contains(counts, c => c.Seen > c.New);
        for (int u = 0; u < data.UserCount; u++) Assert.Equal(counts[u], dyn.NoveltyCounts(u));
        // The audience: a share at least the multiple of everyone's; 0 takes every user, a huge multiple nobody.
        double everyone = (double)counts.Sum(c => c.New) / counts.Sum(c => c.Seen);
        for (int u = 0; u < data.UserCount; u++)
        {
            Assert.Equal(counts[u].Seen > 0 && (double)counts[u].New / counts[u].Seen >= dyn.Options.NewItemPlaceAudience * everyone, dyn.TakesUpNewItems(u));
            var share = dyn.NewItemShare(data.Users.ToExternal(u));
            Assert.Equal(counts[u].Seen == 0 ? 0 : (double)counts[u].New / counts[u].Seen, share.User, 12);
            Assert.Equal(everyone, share.Everyone, 12);
            Assert.Equal(dyn.TakesUpNewItems(u), dyn.TakesUpNewItems(data.Users.ToExternal(u)));
        }
        using var all0 = DynamicFixture.Fit(new DynamicOptions { Epochs = 1, Candidates = 40, Negatives = 15, BatchSize = 64, NewItemPlaceAudience = 0 });
        Assert.True(all0.TakesUpNewItems(0));
        using var nobody = DynamicFixture.Fit(new DynamicOptions { Epochs = 1, Candidates = 40, Negatives = 15, BatchSize = 64, NewItemPlaceAudience = 1e9 });
        Assert.DoesNotContain(Enumerable.Range(0, data.UserCount), nobody.TakesUpNewItems);
        foreach (double bad in new[] { -1, double.NaN, double.PositiveInfinity })
            Assert.Throws<ArgumentOutOfRangeException>(() => DynamicFixture.Fit(new DynamicOptions { NewItemPlaceAudience = bad }));
    }

    [Fact]
    public void AKeptPlace_GoesOnlyToUsersWhoTakeUpNewItems()
    {
        var (data, basePart, tune, _, _) = DynamicFixture.Base.Value;
        var seen = basePart.Interactions.Concat(tune.Interactions).ToList();
        long clock = seen.Max(x => x.Timestamp), window = TenthNewWindow(seen);
        var first = seen.GroupBy(x => x.Item).ToDictionary(g => g.Key, g => g.Min(x => x.Timestamp));
        bool IsNew(int item) => !first.TryGetValue(item, out long t) || t >= clock - window;
        var options = new DynamicOptions { Epochs = 1, Candidates = 40, Negatives = 15, BatchSize = 64, NewItemWindow = TimeSpan.FromSeconds(window), NewItemPlaces = 0 };
        using var plain = DynamicFixture.Fit(options);
        using var kept = DynamicFixture.Fit(options with { NewItemPlaces = 1, NewItemPlaceAudience = 1 });
        int offered = 0, passed = 0;
        for (int u = 0; u < data.UserCount; u++)
        {
            string user = data.Users.ToExternal(u);
            var context = RequestContext.AtUnixTime(clock + 3600);
            var a = plain.Recommend(user, context, 10).Select(r => r.ItemIndex).ToArray();
            var served = kept.Recommend(user, context, 10);
            var b = served.Select(r => r.ItemIndex).ToArray();
            Assert.DoesNotContain(plain.Recommend(user, context, 10), r => r.KeptForNewItem);
            if (!kept.TakesUpNewItems(u))
            {
                Assert.Equal(a, b); // not offered: served as ranked
                Assert.DoesNotContain(served, r => r.KeptForNewItem);
                passed++;
            }
            else if (!a.Any(IsNew))
            {
                Assert.Equal(a[..9], b[..9]);
                Assert.True(IsNew(b[9]), $"user {user}: the kept place holds item {b[9]}, which is not new");
                Assert.Equal([.. Enumerable.Repeat(false, 9), true], served.Select(r => r.KeptForNewItem)); // said so, in the last place only
                offered++;
            }
            else Assert.DoesNotContain(served, r => r.KeptForNewItem); // a new item made it on its score
        }
        Assert.True(offered > 0 && passed > 0, $"offered {offered}, passed over {passed}");
    }

    [Fact]
    public void NewItems_WithTextOnly_GetADynamicRepresentation()
    {
        var dyn = DynamicFixture.Fit();
        var (data, basePart, tune, _, model) = DynamicFixture.Base.Value;
        var known = basePart.Interactions.Select(x => x.Item).ToHashSet();
        int cold = 0;
        Assert.DoesNotContain(cold, known);
        Assert.False(model.Model.ItemTower.Warm![cold]);
        var scores = dyn.Score(data.Users.ToExternal(3), RequestContext.AtUnixTime(1_600_000_000), [data.Items.ToExternal(cold), data.Items.ToExternal(known.First())]);
        Assert.All(scores, s => Assert.True(float.IsFinite(s)));
        Assert.NotEqual(0f, scores[0]);
    }

    [Fact]
    public void SaveLoad_ServesTheSameTwoStageRecommendations()
    {
        var dyn = DynamicFixture.Fit(new DynamicOptions { Epochs = 1, Candidates = 40, Negatives = 15, BatchSize = 64, Context = new ContextSchema(new Dictionary<string, IReadOnlyList<string>> { ["page"] = ["home"] }) });
        var (data, _, _, stream, _) = DynamicFixture.Base.Value;
        dyn.Update(stream.Take(30).ToList());
        string folder = Path.Combine(_dir, "dyn");
        dyn.Save(folder);
        var loaded = DynamicRecommender.Load(folder);
        Assert.Equal(dyn.Version, loaded.Version);
        var context = RequestContext.AtUnixTime(1_600_050_000, fields: new Dictionary<string, string> { ["page"] = "home" });
        foreach (int u in new[] { 0, 9, 33 })
        {
            string user = data.Users.ToExternal(u);
            Assert.Equal(dyn.HistoryOf(user), loaded.HistoryOf(user));
            Assert.Equal(dyn.NoveltyCounts(u), loaded.NoveltyCounts(u));
            Assert.Equal(dyn.TakesUpNewItems(u), loaded.TakesUpNewItems(u));
            var a = dyn.Recommend(user, context, 10);
            var b = loaded.Recommend(user, context, 10);
            Assert.Equal(a.Select(r => r.ItemId), b.Select(r => r.ItemId));
            for (int i = 0; i < a.Count; i++) Assert.Equal(a[i].Score, b[i].Score, 4);
        }
        string manifest = Path.Combine(folder, "dynamic.json");
        string json = File.ReadAllText(manifest);
        File.WriteAllText(manifest, json.Replace($"\"Version\":{DynamicRecommender.FormatVersion}", "\"Version\":1"));
        Assert.Contains("before HierRec moved to TorchSharp", Assert.Throws<InvalidDataException>(() => DynamicRecommender.Load(folder)).Message);
        File.WriteAllText(manifest, "[]");
        Assert.Contains("dynamic.json", Assert.Throws<InvalidDataException>(() => DynamicRecommender.Load(folder)).Message);
    }

    [Fact]
    public void StreamCandidates_AddNewAndTrendingItems_BesideTheStaticOnes_NeverSeenOnes()
    {
        var (data, _, _, _, _) = DynamicFixture.Base.Value;
        var plain = DynamicFixture.Fit(new DynamicOptions { Epochs = 1, Candidates = 5, Negatives = 4, BatchSize = 64, NewItemCandidates = 0, TrendingCandidates = 0 });
        var sourced = DynamicFixture.Fit(new DynamicOptions { Epochs = 1, Candidates = 5, Negatives = 4, BatchSize = 64, NewItemCandidates = 10, TrendingCandidates = 10 });
        var context = RequestContext.AtUnixTime(1_600_000_000);
        string user = data.Users.ToExternal(3);
        Assert.Equal(5, plain.Recommend(user, context, 10).Count); // the static index alone gives 5 candidates
        var top = sourced.Recommend(user, context, 10);
        Assert.Equal(10, top.Count);                                 // new and trending items fill the rest
        Assert.Equal(top.Count, top.Select(r => r.ItemIndex).Distinct().Count());
        Assert.DoesNotContain(top, r => sourced.HistoryOf(user).Contains(r.ItemIndex));
        Assert.Throws<ArgumentOutOfRangeException>(() => DynamicFixture.Fit(new DynamicOptions { NewItemCandidates = -1 }));
    }

    [Fact]
    public void AKeptPlace_GivesTheLastPlaceToTheBestNewCandidate_AndLeavesTheRestAsRanked()
    {
        var (data, basePart, tune, _, _) = DynamicFixture.Base.Value;
        var seen = basePart.Interactions.Concat(tune.Interactions).ToList();
        long clock = seen.Max(x => x.Timestamp);
        var first = seen.GroupBy(x => x.Item).ToDictionary(g => g.Key, g => g.Min(x => x.Timestamp));
        // A window that makes about a tenth of the catalogue new.
        long window = clock - first.Values.OrderDescending().ElementAt(first.Count / 10) + 1;
        var options = new DynamicOptions { Epochs = 1, Candidates = 40, Negatives = 15, BatchSize = 64, NewItemWindow = TimeSpan.FromSeconds(window), NewItemPlaces = 0 };
        var plain = DynamicFixture.Fit(options);
        var kept = DynamicFixture.Fit(options with { NewItemPlaces = 1, NewItemPlaceAudience = 0 }); // every user
        // "New" as of the latest observed interaction: never interacted with, or first within the window.
        bool IsNew(int item) => !first.TryGetValue(item, out long t) || t >= clock - (long)options.NewItemWindow.TotalSeconds;
        int withNew = 0;
        for (int u = 0; u < 20; u++)
        {
            string user = data.Users.ToExternal(u);
            var context = RequestContext.AtUnixTime(clock + 3600);
            var a = plain.Recommend(user, context, 10).Select(r => r.ItemIndex).ToArray();
            var b = kept.Recommend(user, context, 10).Select(r => r.ItemIndex).ToArray();
            Assert.Equal(a[..9], b[..9]);                                  // the same model ranks the first nine
            if (a.Any(IsNew)) Assert.Equal(a, b);                          // a new item made it on its score: nothing kept
            else
            {
                Assert.True(IsNew(b[9]), $"user {user}: the kept place holds item {b[9]}, which is not new");
                withNew++;
            }
        }
        Assert.True(withNew > 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => DynamicFixture.Fit(options with { NewItemPlaces = -1 }));
    }

    [Fact]
    public void AFolderOfFormat2_WithoutTheFeatureBias_StillLoads_AndServesTheSame()
    {
        var dyn = DynamicFixture.Fit(new DynamicOptions { Epochs = 1, Candidates = 40, Negatives = 15, BatchSize = 64, ItemDynamicsBias = false });
        string folder = Path.Combine(_dir, "dyn-v2");
        dyn.Save(folder);
        string manifest = Path.Combine(folder, "dynamic.json");
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace($"\"Version\":{DynamicRecommender.FormatVersion}", "\"Version\":2").Replace("\"ItemDynamicsBias\":false,", ""));
        Assert.DoesNotContain("ItemDynamicsBias", File.ReadAllText(manifest)); // as a version 2 writer left it
        HierRec.Serialization.FolderChecksums.Write(folder);
        var loaded = DynamicRecommender.Load(folder);
        Assert.False(loaded.Options.ItemDynamicsBias); // the default is true; a version 2 folder had no bias
        AssertServesAlike(dyn, loaded);
    }

    /// <summary>The same top 10 for a user at a time, from a recommender and its reloaded copy.</summary>
    private static void AssertServesAlike(DynamicRecommender saved, DynamicRecommender loaded)
    {
        var (data, _, _, _, _) = DynamicFixture.Base.Value;
        var context = RequestContext.AtUnixTime(1_600_050_000);
        string user = data.Users.ToExternal(5);
        Assert.Equal(saved.Recommend(user, context, 10).Select(r => r.ItemId), loaded.Recommend(user, context, 10).Select(r => r.ItemId));
    }

    /// <summary>
    /// Rewrites a saved folder's dynamic.json from <paramref name="original"/> by <paramref name="edit"/>, with checksums
    /// as a writer would leave them (so only the manifest's content is wrong), and returns the manifest's path.
    /// </summary>
    private static string RewriteManifest(string folder, string original, Action<System.Text.Json.Nodes.JsonObject> edit)
    {
        string manifest = Path.Combine(folder, "dynamic.json");
        var json = System.Text.Json.Nodes.JsonNode.Parse(original)!.AsObject();
        edit(json);
        File.WriteAllText(manifest, json.ToJsonString());
        HierRec.Serialization.FolderChecksums.Write(folder);
        return manifest;
    }

    /// <summary>What loading a saved folder throws once its manifest is edited (the message names file and field).</summary>
    private static string LoadRefusal(string folder, string original, Action<System.Text.Json.Nodes.JsonObject> edit)
    {
        RewriteManifest(folder, original, edit);
        return Assert.Throws<InvalidDataException>(() => DynamicRecommender.Load(folder)).Message;
    }

    [Fact]
    public void AFolderOfFormat3_WithoutNoveltyCounts_StillLoads_OfferingKeptPlacesToEveryUserAsItDid()
    {
        var options = new DynamicOptions { Epochs = 1, Candidates = 40, Negatives = 15, BatchSize = 64, NewItemPlaces = 1 };
        var dyn = DynamicFixture.Fit(options with { NewItemPlaceAudience = 0 }); // what a version 3 folder served
        string folder = Path.Combine(_dir, "dyn-v3");
        dyn.Save(folder);
        RewriteManifest(folder, File.ReadAllText(Path.Combine(folder, "dynamic.json")), m =>
        {
            m["Version"] = 3; // as a version 3 writer left it
            m.Remove("UserSeen");
            m.Remove("UserNew");
            m["Options"]!.AsObject().Remove("NewItemPlaceAudience");
        });
        using var loaded = DynamicRecommender.Load(folder);
        Assert.Equal(0, loaded.Options.NewItemPlaceAudience); // the default is 0.5; a version 3 folder offered the place to all
        Assert.Equal((0, 0), loaded.NoveltyCounts(5));       // counted afresh from here on
        AssertServesAlike(dyn, loaded);
    }

    [Fact]
    public void AManifestWithUnorderedItemTimes_OrImpossibleNoveltyCounts_IsRefused_ByField()
    {
        var dyn = DynamicFixture.Fit();
        string folder = Path.Combine(_dir, "dyn-counts");
        dyn.Save(folder);
        string original = File.ReadAllText(Path.Combine(folder, "dynamic.json"));
        string Refusal(Action<System.Text.Json.Nodes.JsonObject> tamper) => LoadRefusal(folder, original, tamper);
        var all = System.Text.Json.Nodes.JsonNode.Parse(original)!["ItemTimes"]!.AsArray();
        int item = Enumerable.Range(0, all.Count).First(i => all[i]!.AsArray().Count >= 2);
        string error = Refusal(m =>
        {
            var times = m["ItemTimes"]![item]!.AsArray();
            times[1] = (long)times[0]! - 1; // a binary search over it would count the wrong interactions
        });
        Assert.Contains("dynamic.json", error);
        Assert.Contains($"ItemTimes[{item}][1]", error);
        Assert.Contains("UserNew[2]", Refusal(m => m["UserNew"]![2] = (int)m["UserSeen"]![2]! + 1));
        Assert.Contains("UserSeen[3]", Refusal(m => m["UserSeen"]![3] = -1));
        Assert.Contains("UserNew", Refusal(m => m["UserNew"]!.AsArray().RemoveAt(0)));
        Assert.Contains("UserSeen", Refusal(m => m.Remove("UserSeen")));
    }

    [Fact]
    public void TheFeatureBias_StartsAtZero_AndIsLearnt()
    {
        using var generator = new TorchSharp.torch.Generator(1);
        var fresh = new DynamicItemEncoder(16, 8, generator, itemFeatures: 5, featureBias: true);
        using var features = TorchSharp.torch.rand(2, 3, 5, generator: generator);
        using var bias = fresh.FeatureBias(features)!;
        Assert.Equal([2L, 3L], bias.shape);
        Assert.Equal(0f, bias.abs().max().item<float>());
        Assert.Null(new DynamicItemEncoder(16, 8, generator, itemFeatures: 5).FeatureBias(features));
        var fitted = DynamicFixture.Fit();
        Assert.True(fitted.Current.Items.BiasOutput!.weight!.abs().max().item<float>() > 0);
        Assert.Null(DynamicFixture.Fit(new DynamicOptions { Epochs = 1, Candidates = 40, Negatives = 15, BatchSize = 64, ItemDynamicsBias = false }).Current.Items.BiasOutput);
    }
}

using System.Diagnostics;
using HierRec.Explanations;
using HierRec.Ranking;
using TorchSharp;
using static TorchSharp.torch;

namespace HierRec.Items;

/// <summary>Serving: the two stages, dynamic scores and explanations.</summary>
public sealed partial class DynamicRecommender
{
    /// <summary>
    /// Two-stage recommendation for a known user: the static top <see cref="DynamicOptions.Candidates"/> (seen items
    /// excluded), re-ranked by their dynamic representations under <paramref name="context"/>.
    /// </summary>
    public IReadOnlyList<DynamicRecommendation> Recommend(string userId, RequestContext? context, int k = 10) =>
        Recommend(userId, context, k, out _, out _);

    /// <summary>As <see cref="Recommend(string, RequestContext?, int)"/>, with each stage's wall time.</summary>
    public IReadOnlyList<DynamicRecommendation> Recommend(string userId, RequestContext? context, int k, out TimeSpan candidateTime, out TimeSpan rerankTime)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        using var activity = HierRec.Diagnostics.HierRecTelemetry.ActivitySource.StartActivity("HierRec.DynamicRecommend");
        int u = UserIndex(userId);
        var history = _histories[u];
        var clock = Stopwatch.StartNew();
        var user = _base.UserVectorsWithHistories([u], [history])[0];
        var candidates = _base.HierarchicalIndex.Rank(user, Options.Candidates, new RankOptions { Filter = history.Length > 0 ? ItemFilter.Exclude(history) : null });
        var ids = candidates.Select(c => c.ItemIndex).ToList();
        var staticScores = candidates.Select(c => c.Score).ToList();
        AddStreamCandidates(user, history, ids, staticScores);
        candidateTime = clock.Elapsed;
        clock.Restart();
        var scores = Rerank(_snapshot, user, history, WithLastTime(context, u), [.. ids]);
        var order = Enumerable.Range(0, ids.Count).OrderByDescending(j => scores[j]).ThenBy(j => ids[j]).Take(k).ToArray();
        rerankTime = clock.Elapsed;
        if (HierRec.Diagnostics.HierRecTelemetry.RequestDuration.Enabled)
        {
            HierRec.Diagnostics.HierRecTelemetry.RequestDuration.Record(candidateTime.TotalSeconds, new("hierrec.operation", "dynamic_recommend"), new("hierrec.stage", "rank"));
            HierRec.Diagnostics.HierRecTelemetry.RequestDuration.Record(rerankTime.TotalSeconds, new("hierrec.operation", "dynamic_recommend"), new("hierrec.stage", "rerank"));
        }
        HierRec.Diagnostics.HierRecTelemetry.Scored("rank", _base.HierarchicalIndex.Count);
        HierRec.Diagnostics.HierRecTelemetry.Scored("rerank", ids.Count);
        return order.Select(j => new DynamicRecommendation(_base.ItemMap.ToExternal(ids[j]), ids[j], scores[j], staticScores[j])).ToArray();
    }

    /// <summary>The first stage alone: the top <paramref name="k"/> by ⟨x_u, E_i⟩, x_u encoded from the observed history (seen items excluded).</summary>
    public IReadOnlyList<DynamicRecommendation> RecommendStatic(string userId, int k = 10)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        int u = UserIndex(userId);
        var history = _histories[u];
        var user = _base.UserVectorsWithHistories([u], [history])[0];
        return _base.HierarchicalIndex.Rank(user, k, new RankOptions { Filter = history.Length > 0 ? ItemFilter.Exclude(history) : null })
            .Select(c => new DynamicRecommendation(_base.ItemMap.ToExternal(c.ItemIndex), c.ItemIndex, c.Score, c.Score)).ToArray();
    }

    /// <summary>Dynamic scores ⟨x_u, S_i⟩ of the given items for a known user under a context (one snapshot throughout).</summary>
    public float[] Score(string userId, RequestContext? context, IReadOnlyList<string> itemIds)
    {
        ArgumentNullException.ThrowIfNull(itemIds);
        int u = UserIndex(userId);
        var ids = itemIds.Select(i => _base.ItemMap.TryGetDense(i, out int d) ? d : throw new KeyNotFoundException($"Unknown item '{i}'.")).ToArray();
        var history = _histories[u];
        return Rerank(_snapshot, _base.UserVectorsWithHistories([u], [history])[0], history, WithLastTime(context, u), ids);
    }

    /// <summary>
    /// Why <paramref name="itemId"/> is recommended to a known user under <paramref name="context"/>, in one record: the
    /// first stage's layers (profile, behaviour with its items, social with its friends, on the observed history) and
    /// the second stage's, with signed attributions "context" (the context's leave-one-out effect) and "item dynamics"
    /// (the rest of the refinement from ⟨x_u, E_i⟩ to the dynamic score), and the details in
    /// <see cref="Explanation.Dynamic"/>. Score and Rank are the static stage's; <see cref="DynamicExplanation.Score"/> is the served score.
    /// </summary>
    public Explanation Explain(string userId, string itemId, RequestContext? context)
    {
        var dynamic = ExplainDynamic(userId, itemId, context);
        var why = _base.ExplainWithHistory(userId, _histories[UserIndex(userId)], itemId);
        var attributions = new Dictionary<string, double>(why.LayerAttributions)
        {
            ["context"] = dynamic.ContextEffect,
            ["item dynamics"] = dynamic.Score - dynamic.StaticScore - dynamic.ContextEffect,
        };
        return why with { LayerAttributions = attributions, Dynamic = dynamic };
    }

    /// <summary>
    /// The dynamic score of <paramref name="itemId"/> for a known user under <paramref name="context"/>, split into the
    /// static score, the refinement, and the context's leave-one-out effect, with the attention over history and context.
    /// </summary>
    public DynamicExplanation ExplainDynamic(string userId, string itemId, RequestContext? context)
    {
        int u = UserIndex(userId);
        int item = _base.ItemMap.TryGetDense(itemId ?? throw new ArgumentNullException(nameof(itemId)), out int di) ? di : throw new KeyNotFoundException($"Unknown item '{itemId}'.");
        var s = _snapshot;
        var history = _histories[u];
        var user = _base.UserVectorsWithHistories([u], [history])[0];
        context = WithLastTime(context, u);
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var cand = Gather([[item]]);
        var ctx = s.Context?.Encode([context ?? RequestContext.None]);
        var userRow = Users([user]);
        var features = CandidateFeatures(s, [[item]], [TimeOf(context)]);
        var (dynamic, weights) = s.Items.Forward(cand, _items, [history], ctx, features);
        float score = DynamicItemEncoder.Score(userRow, dynamic).item<float>();
        float without = ctx is null ? score : DynamicItemEncoder.Score(userRow, s.Items.Forward(cand, _items, [history], null, features).Vectors).item<float>();
        float staticScore = System.Numerics.Tensors.TensorPrimitives.Dot(user, _base.ItemRows.Slice(item * _dimension, _dimension));
        var w = weights is null ? [] : TorchInterop.ToFloats(weights);
        int t = weights is null ? 0 : (int)weights.shape[2], shown = Math.Min(history.Length, s.Items.MaxHistory);
        var historyAttention = weights is null ? [] : Enumerable.Range(0, shown)
            .Select(j => new Explanations.Attribution(_base.ItemMap.ToExternal(history[j]), w[j])).OrderByDescending(a => a.Value).ToList();
        double contextAttention = weights is not null && ctx is not null ? w[t - 1] : 0;
        return new DynamicExplanation(itemId, staticScore, score, score - without, contextAttention, historyAttention);
    }

    /// <summary>
    /// The second and third candidate sources (<see cref="DynamicOptions.NewItemCandidates"/>,
    /// <see cref="DynamicOptions.TrendingCandidates"/>), appended to the static candidates without repeats or seen items.
    /// </summary>
    private void AddStreamCandidates(float[] user, int[] history, List<int> ids, List<float> staticScores)
    {
        if (Options.NewItemCandidates == 0 && Options.TrendingCandidates == 0) return;
        var stream = StreamItems();
        var taken = new HashSet<int>(ids);
        taken.UnionWith(history);
        if (Options.NewItemCandidates > 0 && stream.New.Length > 0)
        {
            // The ranker's own scan, restricted to the new items: the same SIMD pass and scores as the static candidates.
            var onlyNew = new RankOptions { Filter = ItemFilter.All(stream.NewFilter, ItemFilter.Exclude(taken)) };
            foreach (var r in _base.HierarchicalIndex.Rank(user, Options.NewItemCandidates, onlyNew))
            {
                ids.Add(r.ItemIndex);
                staticScores.Add(r.Score);
                taken.Add(r.ItemIndex);
            }
        }
        int added = 0;
        foreach (int i in stream.Trending)
        {
            if (added == Options.TrendingCandidates) break;
            if (!taken.Add(i)) continue;
            ids.Add(i);
            staticScores.Add(StaticScore(user, i));
            added++;
        }
    }

    private float StaticScore(float[] user, int item) => System.Numerics.Tensors.TensorPrimitives.Dot(user, _base.ItemRows.Slice(item * _dimension, _dimension));

    /// <summary>The new items and the trending items (most recent interactions first) as of the latest observed interaction, cached until the next one.</summary>
    private StreamSnapshot StreamItems()
    {
        var cached = _streamItems;
        long clock = Volatile.Read(ref _clock);
        if (cached is not null && cached.Clock == clock) return cached;
        var times = _itemTimes;
        long newSince = clock - (long)Options.NewItemWindow.TotalSeconds, trendSince = clock - (long)Options.TrendingWindow.TotalSeconds;
        var fresh = new List<int>();
        var counts = new List<(int Item, int Count)>();
        for (int i = 0; i < times.Length; i++)
        {
            var t = times[i];
            if (t.Length == 0 || t[0] >= newSince) fresh.Add(i);
            int recent = t.Length - LowerBound(t, trendSince);
            if (recent > 0) counts.Add((i, recent));
        }
        var trending = counts.OrderByDescending(c => c.Count).ThenBy(c => c.Item).Select(c => c.Item).Take(Math.Max(1, 4 * Options.TrendingCandidates)).ToArray();
        var snapshot = new StreamSnapshot(clock, [.. fresh], ItemFilter.AllowOnly(fresh), trending);
        _streamItems = snapshot;
        return snapshot;
    }

    private sealed record StreamSnapshot(long Clock, int[] New, ItemFilter NewFilter, int[] Trending);

    private volatile StreamSnapshot? _streamItems;

    internal float[] Score(Snapshot snapshot, int user, RequestContext? context, int[] items) =>
        Rerank(snapshot, _base.UserVectorsWithHistories([user], [_histories[user]])[0], _histories[user], WithLastTime(context, user), items);

    private RequestContext? WithLastTime(RequestContext? context, int user) =>
        context is { Time: not null, LastInteraction: null } && _lastTime[user] > 0 ? context with { LastInteraction = DateTimeOffset.FromUnixTimeSeconds(_lastTime[user]) } : context;

    private float[] Rerank(Snapshot s, float[] user, int[] history, RequestContext? context, int[] items)
    {
        if (items.Length == 0) return [];
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var ctx = s.Context?.Encode([context ?? RequestContext.None]);
        var (dynamic, _) = s.Items.Forward(Gather([items]), _items, [history], ctx, CandidateFeatures(s, [items], [TimeOf(context)]));
        return TorchInterop.ToFloats(DynamicItemEncoder.Score(Users([user]), dynamic));
    }
}

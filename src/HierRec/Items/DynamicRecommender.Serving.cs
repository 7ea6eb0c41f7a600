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
        var stream = StreamItems(); // one snapshot for the request's candidates and its kept places
        AddStreamCandidates(stream, user, history, ids, staticScores);
        candidateTime = clock.Elapsed;
        clock.Restart();
        float[] scores;
        using (var held = Hold()) scores = Rerank(held.Snapshot, user, history, WithLastTime(context, u), [.. ids]);
        var order = KeepPlacesForNewItems(Enumerable.Range(0, ids.Count).OrderByDescending(j => scores[j]).ThenBy(j => ids[j]), ids, scores, k, stream.NewFilter, u, out var kept);
        rerankTime = clock.Elapsed;
        if (HierRec.Diagnostics.HierRecTelemetry.RequestDuration.Enabled)
        {
            HierRec.Diagnostics.HierRecTelemetry.RequestDuration.Record(candidateTime.TotalSeconds, new("hierrec.operation", "dynamic_recommend"), new("hierrec.stage", "rank"));
            HierRec.Diagnostics.HierRecTelemetry.RequestDuration.Record(rerankTime.TotalSeconds, new("hierrec.operation", "dynamic_recommend"), new("hierrec.stage", "rerank"));
        }
        HierRec.Diagnostics.HierRecTelemetry.Scored("rank", _base.HierarchicalIndex.Count);
        HierRec.Diagnostics.HierRecTelemetry.Scored("rerank", ids.Count);
        return order.Select((j, rank) => new DynamicRecommendation(_base.ItemMap.ToExternal(ids[j]), ids[j], scores[j], staticScores[j]) { KeptForNewItem = kept?.Contains(rank) == true }).ToArray();
    }

    /// <summary>
    /// The top <paramref name="k"/> of <paramref name="order"/> (candidate positions, best first), with the last
    /// <see cref="DynamicOptions.NewItemPlaces"/> places given to the best-ranked new items when fewer are already in it,
    /// for a user who takes up new items (<see cref="DynamicOptions.NewItemPlaceAudience"/>); <c>kept</c> gets the places
    /// (0-based) given that way, or null when none was.
    /// </summary>
    private int[] KeepPlacesForNewItems(IOrderedEnumerable<int> order, List<int> ids, float[] scores, int k, ItemFilter isNew, int user, out HashSet<int>? kept)
    {
        kept = null;
        int places = Math.Min(Options.NewItemPlaces, k - 1);
        if (places > 0 && !TakesUpNewItems(user)) places = 0;
        if (places <= 0 || ids.Count <= k) return order.Take(k).ToArray(); // the usual case: a partial sort of the top k only
        var ranked = order.ToArray();
        var top = ranked.Take(k).ToList();
        // Any new candidate: restricting the place to new items already gathering interactions measured no better
        // (validation stream, MovieLens-100K: 17.9 % of new items' interactions hit against 19.4 %).
        int missing = places - top.Count(j => isNew.Allows(ids[j]));
        if (missing <= 0) return [.. top];
        // Within NewItemPlaceMargin standard deviations of the candidates' scores below the k-th score.
        double floor = scores[ranked[k - 1]] - Options.NewItemPlaceMargin * HierRec.Ranking.ScoreStatistics.StandardDeviation(scores);
        var extra = ranked.Skip(k).Where(j => isNew.Allows(ids[j]) && scores[j] >= floor).Take(missing).ToArray();
        if (extra.Length == 0) return [.. top];
        // Replace the lowest-ranked items that are not new themselves.
        for (int r = top.Count - 1, e = 0; r >= 0 && e < extra.Length; r--)
            if (!isNew.Allows(ids[top[r]]))
            {
                top[r] = extra[e++];
                (kept ??= []).Add(r);
            }
        return [.. top];
    }

    /// <summary>The first stage alone: the top <paramref name="k"/> by ⟨x_u, E_i⟩, x_u encoded from the observed history (seen items excluded).</summary>
    public IReadOnlyList<DynamicRecommendation> RecommendStatic(string userId, int k = 10) => RecommendStatic(userId, k, served: false);

    /// <summary>
    /// As <see cref="RecommendStatic(string, int)"/>; with <paramref name="served"/>, ranked instead as the base
    /// recommender serves (with its collaborative and sequential dimensions), on the observed history, both scores then
    /// being that served score.
    /// </summary>
    public IReadOnlyList<DynamicRecommendation> RecommendStatic(string userId, int k, bool served)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        int u = UserIndex(userId);
        var history = _histories[u];
        if (served)
            return _base.RecommendWithHistory(u, history, k).Select(r => new DynamicRecommendation(r.ItemId, r.ItemIndex, r.Score, r.Score)).ToArray();
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
        var user = _base.UserVectorsWithHistories([u], [history])[0];
        using var held = Hold();
        return Rerank(held.Snapshot, user, history, WithLastTime(context, u), ids);
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
        using var held = Hold();
        var s = held.Snapshot;
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
        var bias = s.Items.FeatureBias(features);
        float score = DynamicItemEncoder.Score(userRow, dynamic, bias).item<float>();
        float without = ctx is null ? score : DynamicItemEncoder.Score(userRow, s.Items.Forward(cand, _items, [history], null, features).Vectors, bias).item<float>();
        float staticScore = StaticScore(user, item);
        var w = weights is null ? [] : TorchInterop.ToFloats(weights);
        int t = weights is null ? 0 : (int)weights.shape[2], shown = Math.Min(history.Length, s.Items.MaxHistory);
        var historyAttention = weights is null ? [] : Enumerable.Range(0, shown)
            .Select(j => new Explanations.Attribution(_base.ItemMap.ToExternal(history[j]), w[j])).OrderByDescending(a => a.Value).ToList();
        double contextAttention = weights is not null && ctx is not null ? w[t - 1] : 0;
        return new DynamicExplanation(itemId, staticScore, score, score - without, contextAttention, historyAttention);
    }

    /// <summary>
    /// The second and third candidate sources (<see cref="DynamicOptions.NewItemCandidates"/>,
    /// <see cref="DynamicOptions.TrendingCandidates"/>): appends <paramref name="stream"/>'s new items (half those
    /// gathering interactions fastest, half the best by ⟨x_u, E_i⟩), then its most trending items, skipping items already
    /// among <paramref name="ids"/> or in <paramref name="history"/>. Serving and training (<see cref="Loss"/>, with the
    /// stream as of each example's time) both take their candidates from here.
    /// </summary>
    private void AddStreamCandidates(StreamSnapshot stream, float[] user, int[] history, List<int> ids, List<float>? staticScores)
    {
        if (Options.NewItemCandidates == 0 && Options.TrendingCandidates == 0) return;
        var taken = new HashSet<int>(ids);
        taken.UnionWith(history);
        // Up to limit items of source (best first) not yet taken; returns how many.
        int Append(int[] source, int limit)
        {
            int added = 0;
            foreach (int i in source)
            {
                if (added == limit) break;
                if (!taken.Add(i)) continue;
                ids.Add(i);
                staticScores?.Add(StaticScore(user, i));
                added++;
            }
            return added;
        }
        if (Options.NewItemCandidates > 0 && stream.New.Length > 0)
        {
            // Half the places go to the new items gathering interactions fastest (most within the trending window)...
            int fast = Append(stream.NewTrending, Options.NewItemCandidates / 2);
            // ...the rest to the new items closest to the user, by the ranker's own scan restricted to the new items (the
            // same SIMD pass and scores as the static candidates).
            var onlyNew = new RankOptions { Filter = ItemFilter.All(stream.NewFilter, ItemFilter.Exclude(taken)) };
            foreach (var r in _base.HierarchicalIndex.Rank(user, Options.NewItemCandidates - fast, onlyNew))
            {
                ids.Add(r.ItemIndex);
                staticScores?.Add(r.Score);
                taken.Add(r.ItemIndex);
            }
        }
        Append(stream.Trending, Options.TrendingCandidates);
    }

    private float StaticScore(float[] user, int item) => System.Numerics.Tensors.TensorPrimitives.Dot(user, _base.ItemRows.Slice(item * _dimension, _dimension));

    /// <summary>The new items and the trending items as of the latest observed interaction, cached until the next one.</summary>
    private StreamSnapshot StreamItems()
    {
        var cached = _streamItems;
        long clock = Volatile.Read(ref _clock);
        if (cached is not null && cached.Clock == clock) return cached;
        var snapshot = StreamAt(clock + 1) with { Clock = clock };
        _streamItems = snapshot;
        return snapshot;
    }

    /// <summary>
    /// The new and trending items at time <paramref name="t"/>, from the interactions strictly before it (no look-ahead):
    /// new = no interaction before t, or the first within <see cref="DynamicOptions.NewItemWindow"/> of t; trending =
    /// the most interactions within <see cref="DynamicOptions.TrendingWindow"/> before t, most first.
    /// </summary>
    private StreamSnapshot StreamAt(long t)
    {
        if (Options.NewItemCandidates == 0 && Options.TrendingCandidates == 0) return new StreamSnapshot(t, [], ItemFilter.AllowOnly([]), [], []);
        var times = _itemTimes;
        long newSince = t - (long)Options.NewItemWindow.TotalSeconds, trendSince = t - (long)Options.TrendingWindow.TotalSeconds;
        var fresh = new List<int>();
        var counts = new List<(int Item, int Count)>();
        var freshCounts = new List<(int Item, int Count)>();
        for (int i = 0; i < times.Length; i++)
        {
            var ti = times[i];
            int before = LowerBound(ti, t);
            bool isNew = before == 0 || ti[0] >= newSince;
            if (isNew) fresh.Add(i);
            int recent = before - LowerBound(ti, trendSince);
            if (recent > 0) counts.Add((i, recent));
            if (recent > 0 && isNew) freshCounts.Add((i, recent));
        }
        int[] Top(List<(int Item, int Count)> c, int n) => c.OrderByDescending(x => x.Count).ThenBy(x => x.Item).Select(x => x.Item).Take(Math.Max(1, n)).ToArray();
        return new StreamSnapshot(t, [.. fresh], ItemFilter.AllowOnly(fresh), Top(counts, 4 * Options.TrendingCandidates), Top(freshCounts, 4 * Options.NewItemCandidates));
    }

    /// <summary>The stream's candidates at a time: the new items (and a filter of them), the trending items, and the new items among the trending, most interactions first.</summary>
    private sealed record StreamSnapshot(long Clock, int[] New, ItemFilter NewFilter, int[] Trending, int[] NewTrending);

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
        var features = CandidateFeatures(s, [items], [TimeOf(context)]);
        var (dynamic, _) = s.Items.Forward(Gather([items]), _items, [history], ctx, features);
        return TorchInterop.ToFloats(DynamicItemEncoder.Score(Users([user]), dynamic, s.Items.FeatureBias(features)));
    }
}

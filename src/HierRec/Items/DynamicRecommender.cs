using System.Diagnostics;
using HierRec.Data;
using HierRec.Ranking;
using HierRec.Tensors;
using HierRec.Tensors.Autograd;
using HierRec.Tensors.Optimizers;
using HierRec.Tensors.Serialization;

namespace HierRec.Items;

/// <summary>Architecture and training of the dynamic item representations. Defaults are documented per property.</summary>
public sealed record DynamicOptions
{
    /// <summary>Candidates the first stage takes from the static index for re-ranking. Default 200.</summary>
    public int Candidates { get; init; } = 200;

    /// <summary>Most recent history items the dynamic encoder attends to. Default 50.</summary>
    public int MaxHistory { get; init; } = 50;

    /// <summary>
    /// Give each candidate its dynamic item features at request time: how often it was interacted with in the last day,
    /// the last week and ever, how long since it first was, and whether it ever was. Default true.
    /// </summary>
    public bool UseItemDynamics { get; init; } = true;

    /// <summary>Read the request context (time, recency, categorical fields). Default true.</summary>
    public bool UseContext { get; init; } = true;

    /// <summary>The categorical context fields; default none.</summary>
    public ContextSchema Context { get; init; } = ContextSchema.Empty;

    /// <summary>Epochs of the first fit. Default 3.</summary>
    public int Epochs { get; init; } = 3;

    /// <summary>Examples per step. Default 128.</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>Other candidates per training example, drawn from the example's static candidates. Default 63.</summary>
    public int Negatives { get; init; } = 63;

    /// <summary>AdamW learning rate of the first fit. Default 2e-3.</summary>
    public float LearningRate { get; init; } = 2e-3f;

    /// <summary>AdamW learning rate of <see cref="DynamicRecommender.Update"/>. Default 5e-4.</summary>
    public float UpdateLearningRate { get; init; } = 5e-4f;

    /// <summary>Passes over (new + replayed) examples per update. Default 1.</summary>
    public int UpdateEpochs { get; init; } = 1;

    /// <summary>Replayed older examples per new example in an update (against forgetting). Default 1.</summary>
    public double ReplayRatio { get; init; } = 1.0;

    /// <summary>Older examples kept for replay (a reservoir sample). Default 20,000.</summary>
    public int ReplayCapacity { get; init; } = 20_000;

    /// <summary>Seed. Default 1.</summary>
    public ulong Seed { get; init; } = 1;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Candidates, 2, nameof(Candidates));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxHistory, nameof(MaxHistory));
        ArgumentOutOfRangeException.ThrowIfNegative(Epochs, nameof(Epochs));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(BatchSize, nameof(BatchSize));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Negatives, nameof(Negatives));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(LearningRate, nameof(LearningRate));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(UpdateLearningRate, nameof(UpdateLearningRate));
        ArgumentOutOfRangeException.ThrowIfNegative(UpdateEpochs, nameof(UpdateEpochs));
        ArgumentOutOfRangeException.ThrowIfNegative(ReplayRatio, nameof(ReplayRatio));
        ArgumentOutOfRangeException.ThrowIfNegative(ReplayCapacity, nameof(ReplayCapacity));
        ArgumentNullException.ThrowIfNull(Context, nameof(Context));
    }
}

/// <summary>What an <see cref="DynamicRecommender.Update"/> did.</summary>
/// <param name="NewExamples">Interactions learnt from.</param>
/// <param name="ReplayedExamples">Older examples replayed with them.</param>
/// <param name="Steps">Optimiser steps.</param>
/// <param name="MeanLoss">Mean training loss.</param>
/// <param name="Version">The parameter snapshot now served.</param>
/// <param name="Elapsed">Wall time.</param>
public sealed record DynamicUpdateReport(int NewExamples, int ReplayedExamples, int Steps, double MeanLoss, long Version, TimeSpan Elapsed);

/// <summary>One recommendation of the two-stage server.</summary>
/// <param name="ItemId">External item id.</param>
/// <param name="ItemIndex">Dense item index.</param>
/// <param name="Score">r = ⟨x_u, S_i⟩ with the dynamic representation.</param>
/// <param name="StaticScore">⟨x_u, E_i⟩, the first stage's score.</param>
public sealed record DynamicRecommendation(string ItemId, int ItemIndex, float Score, float StaticScore);

/// <summary>Why an item scores as it does under the dynamic representation.</summary>
/// <param name="ItemId">The item.</param>
/// <param name="StaticScore">⟨x_u, E_i⟩: the first stage's score.</param>
/// <param name="Score">⟨x_u, S_i⟩: the dynamic score.</param>
/// <param name="ContextEffect">The score minus the score without the context token (leave-one-out; 0 without context).</param>
/// <param name="ContextAttention">The item's attention weight on the context token.</param>
/// <param name="HistoryAttention">The item's attention weights on the history items, largest first.</param>
public sealed record DynamicExplanation(string ItemId, float StaticScore, float Score, float ContextEffect, double ContextAttention,
    IReadOnlyList<Explanations.Attribution> HistoryAttention);

/// <summary>
/// Context-aware dynamic item representations served in two stages over a fitted <see cref="HierarchicalRecommender"/>:
/// the static index gives the top <see cref="DynamicOptions.Candidates"/> items for x_u (the user encoded from the
/// history observed so far), then each candidate's S_i = E_i + g ⊙ Attn(E_i, [history; context]) re-ranks them by
/// ⟨x_u, S_i⟩. <see cref="Update"/> fine-tunes the dynamic layers (never the base model) on new interactions mixed with
/// replayed older ones, on a copy, and swaps the copy in atomically.
/// </summary>
/// <remarks>
/// Thread-safety: <see cref="Recommend(string, RequestContext?, int)"/> and <see cref="Score(string, RequestContext?, IReadOnlyList{string})"/> may run concurrently with each other and with
/// <see cref="Observe"/> and <see cref="Update"/>: a request reads one parameter snapshot (old or new, never a mix) and one
/// version of each history. Updates and observations are serialised among themselves.
/// </remarks>
public sealed class DynamicRecommender
{
    /// <summary>The parameters one request reads: immutable once published.</summary>
    internal sealed class Snapshot(DynamicItemEncoder items, ContextEncoder? context, long version)
    {
        public DynamicItemEncoder Items { get; } = items;
        public ContextEncoder? Context { get; } = context;
        public long Version { get; } = version;
    }

    private readonly record struct Example(int User, int Item, long Time, int[] History, long LastTime);

    private readonly HierarchicalRecommender _base;
    private readonly Tensor _items;          // (items, D) static vectors E
    private readonly int _dimension;
    private readonly Lock _writeLock = new();
    private readonly Rng _rng;
    private readonly List<Example> _replay = [];
    private long _seenExamples;
    private volatile Snapshot _snapshot;
    private int[][] _histories;              // per user, most recent first; each array replaced, never mutated
    private long[] _lastTime;                // per user, Unix seconds of the last interaction (0: none)
    private long[][] _itemTimes;             // per item, interaction times ascending; each array replaced, never mutated
    private long _clock;                     // the latest interaction time observed

    /// <summary>Dynamic item features per candidate.</summary>
    internal const int ItemFeatureCount = 5;

    private DynamicRecommender(HierarchicalRecommender baseRecommender, DynamicOptions options, Snapshot snapshot)
    {
        _base = baseRecommender;
        Options = options;
        _dimension = baseRecommender.Model.Options.Dimension;
        _items = baseRecommender.EngineItems();
        _snapshot = snapshot;
        _rng = new Rng(options.Seed);
        int users = baseRecommender.Context.Histories.Count;
        _histories = [.. baseRecommender.Context.Histories];
        _lastTime = new long[users];
        _itemTimes = Enumerable.Repeat(Array.Empty<long>(), _items.Dim(0)).ToArray();
    }

    /// <summary>The options.</summary>
    public DynamicOptions Options { get; }

    /// <summary>The base recommender (static item vectors, user encoder, index); never changed here.</summary>
    public HierarchicalRecommender Base => _base;

    /// <summary>Version of the parameter snapshot being served (0 after the first fit; +1 per update).</summary>
    public long Version => _snapshot.Version;

    internal Snapshot Current => _snapshot;

    /// <summary>The history each user is served with, most recent first.</summary>
    public IReadOnlyList<int> HistoryOf(string userId) => _histories[UserIndex(userId)];

    private int UserIndex(string userId) =>
        _base.UserIds.TryGetDense(userId ?? throw new ArgumentNullException(nameof(userId)), out int u) ? u : throw new KeyNotFoundException($"Unknown user '{userId}'.");

    /// <summary>
    /// Fits the dynamic layers on <paramref name="interactions"/> (ids as in the base recommender's training data), which
    /// should be interactions the base model did not train on (for example the period after its training data): each
    /// interaction, with the user's history before it and its time as context, must beat negatives drawn from the static
    /// candidates the first stage would return. Users' histories start from the base's training histories (their times
    /// from <paramref name="baseInteractions"/>) and then include <paramref name="interactions"/>.
    /// </summary>
    public static DynamicRecommender Fit(HierarchicalRecommender baseRecommender, Dataset baseInteractions, Dataset interactions, DynamicOptions? options = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(baseRecommender);
        ArgumentNullException.ThrowIfNull(baseInteractions);
        ArgumentNullException.ThrowIfNull(interactions);
        options ??= new DynamicOptions();
        options.Validate();
        var rng = new Rng(options.Seed);
        int d = baseRecommender.Model.Options.Dimension;
        var snapshot = new Snapshot(new DynamicItemEncoder(d, options.MaxHistory, rng.Fork(), itemFeatures: options.UseItemDynamics ? ItemFeatureCount : 0),
            options.UseContext ? new ContextEncoder(d, options.Context, rng.Fork()) : null, 0);
        var recommender = new DynamicRecommender(baseRecommender, options, snapshot);
        foreach (var x in baseInteractions.Interactions) recommender._lastTime[x.User] = Math.Max(recommender._lastTime[x.User], x.Timestamp);
        recommender.AddItemTimes(baseInteractions.Interactions);
        var examples = recommender.ObserveLocked(interactions.Interactions);
        recommender.Train(snapshot, examples, options.Epochs, options.LearningRate, progress, cancellationToken);
        foreach (var e in examples) recommender.Remember(e);
        return recommender;
    }

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
        int u = UserIndex(userId);
        var history = _histories[u];
        var clock = Stopwatch.StartNew();
        var user = _base.UserVectorsWithHistories([u], [history])[0];
        var candidates = _base.Index.Rank(user, Options.Candidates, new RankOptions { Filter = history.Length > 0 ? ItemFilter.Exclude(history) : null });
        candidateTime = clock.Elapsed;
        clock.Restart();
        var ids = candidates.Select(c => c.ItemIndex).ToArray();
        var scores = Rerank(_snapshot, user, history, WithLastTime(context, u), ids);
        var order = Enumerable.Range(0, ids.Length).OrderByDescending(j => scores[j]).ThenBy(j => ids[j]).Take(k).ToArray();
        rerankTime = clock.Elapsed;
        return order.Select(j => new DynamicRecommendation(_base.ItemIds.ToExternal(ids[j]), ids[j], scores[j], candidates[j].Score)).ToArray();
    }

    /// <summary>The first stage alone: the top <paramref name="k"/> by ⟨x_u, E_i⟩, x_u encoded from the observed history (seen items excluded).</summary>
    public IReadOnlyList<DynamicRecommendation> RecommendStatic(string userId, int k = 10)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        int u = UserIndex(userId);
        var history = _histories[u];
        var user = _base.UserVectorsWithHistories([u], [history])[0];
        return _base.Index.Rank(user, k, new RankOptions { Filter = history.Length > 0 ? ItemFilter.Exclude(history) : null })
            .Select(c => new DynamicRecommendation(_base.ItemIds.ToExternal(c.ItemIndex), c.ItemIndex, c.Score, c.Score)).ToArray();
    }

    /// <summary>Dynamic scores ⟨x_u, S_i⟩ of the given items for a known user under a context (one snapshot throughout).</summary>
    public float[] Score(string userId, RequestContext? context, IReadOnlyList<string> itemIds)
    {
        ArgumentNullException.ThrowIfNull(itemIds);
        int u = UserIndex(userId);
        var ids = itemIds.Select(i => _base.ItemIds.TryGetDense(i, out int d) ? d : throw new KeyNotFoundException($"Unknown item '{i}'.")).ToArray();
        var history = _histories[u];
        return Rerank(_snapshot, _base.UserVectorsWithHistories([u], [history])[0], history, WithLastTime(context, u), ids);
    }

    /// <summary>
    /// The dynamic score of <paramref name="itemId"/> for a known user under <paramref name="context"/>, split into the
    /// static score, the refinement, and the context's leave-one-out effect, with the attention over history and context.
    /// </summary>
    public DynamicExplanation Explain(string userId, string itemId, RequestContext? context)
    {
        int u = UserIndex(userId);
        int item = _base.ItemIds.TryGetDense(itemId ?? throw new ArgumentNullException(nameof(itemId)), out int di) ? di : throw new KeyNotFoundException($"Unknown item '{itemId}'.");
        var s = _snapshot;
        var history = _histories[u];
        var user = _base.UserVectorsWithHistories([u], [history])[0];
        context = WithLastTime(context, u);
        using var noGrad = GradMode.NoGrad();
        var cand = Tensor.FromArray(_items.Data.Slice(item * _dimension, _dimension), 1, 1, _dimension);
        var ctx = s.Context?.Encode([context ?? RequestContext.None]);
        var userRow = Tensor.FromArray(user, 1, _dimension);
        var features = CandidateFeatures(s, [[item]], [TimeOf(context)]);
        float score = DynamicItemEncoder.Score(userRow, s.Items.Forward(cand, _items, [history], ctx, features, out var weights)).ToScalar();
        float without = ctx is null ? score : DynamicItemEncoder.Score(userRow, s.Items.Forward(cand, _items, [history], null, features, out _)).ToScalar();
        float staticScore = System.Numerics.Tensors.TensorPrimitives.Dot(user, cand.Data);
        int t = weights?.Dim(2) ?? 0, shown = Math.Min(history.Length, s.Items.MaxHistory);
        var historyAttention = weights is null ? [] : Enumerable.Range(0, shown)
            .Select(j => new Explanations.Attribution(_base.ItemIds.ToExternal(history[j]), weights.Data[j])).OrderByDescending(a => a.Value).ToList();
        double contextAttention = weights is not null && ctx is not null ? weights.Data[t - 1] : 0;
        return new DynamicExplanation(itemId, staticScore, score, score - without, contextAttention, historyAttention);
    }

    internal float[] Score(Snapshot snapshot, int user, RequestContext? context, int[] items) =>
        Rerank(snapshot, _base.UserVectorsWithHistories([user], [_histories[user]])[0], _histories[user], WithLastTime(context, user), items);

    private RequestContext? WithLastTime(RequestContext? context, int user) =>
        context is { Time: not null, LastInteraction: null } && _lastTime[user] > 0 ? context with { LastInteraction = DateTimeOffset.FromUnixTimeSeconds(_lastTime[user]) } : context;

    private float[] Rerank(Snapshot s, float[] user, int[] history, RequestContext? context, int[] items)
    {
        if (items.Length == 0) return [];
        using (GradMode.NoGrad())
        {
            var cand = new Tensor(1, items.Length, _dimension);
            for (int j = 0; j < items.Length; j++) _items.Data.Slice(items[j] * _dimension, _dimension).CopyTo(cand.Data.Slice(j * _dimension, _dimension));
            var ctx = s.Context?.Encode([context ?? RequestContext.None]);
            var dynamic = s.Items.Forward(cand, _items, [history], ctx, CandidateFeatures(s, [items], [TimeOf(context)]), out _);
            return DynamicItemEncoder.Score(Tensor.FromArray(user, 1, _dimension), dynamic).ToArray();
        }
    }

    /// <summary>Appends interactions to the users' histories (no learning): what a server does between updates.</summary>
    public void Observe(IReadOnlyList<Interaction> interactions)
    {
        ArgumentNullException.ThrowIfNull(interactions);
        lock (_writeLock) ObserveLocked(interactions);
    }

    /// <summary>
    /// Learns from new interactions: observes them, takes <see cref="DynamicOptions.UpdateEpochs"/> passes of AdamW steps
    /// on them mixed with replayed older examples, on a copy of the dynamic layers, and swaps the copy in atomically.
    /// Serving continues on the old snapshot meanwhile.
    /// </summary>
    public DynamicUpdateReport Update(IReadOnlyList<Interaction> interactions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(interactions);
        lock (_writeLock)
        {
            var clock = Stopwatch.StartNew();
            var examples = ObserveLocked(interactions);
            int replay = (int)Math.Min(_replay.Count, Math.Round(examples.Count * Options.ReplayRatio));
            var batch = examples.Concat(Enumerable.Range(0, replay).Select(_ => _replay[_rng.NextInt(_replay.Count)])).ToList();
            var copy = Clone(_snapshot, _snapshot.Version + 1);
            var (steps, loss) = batch.Count == 0 ? (0, double.NaN) : Train(copy, batch, Options.UpdateEpochs, Options.UpdateLearningRate, null, cancellationToken);
            _snapshot = copy; // atomic publication: readers hold the reference they started with
            foreach (var e in examples) Remember(e);
            return new DynamicUpdateReport(examples.Count, replay, steps, loss, copy.Version, clock.Elapsed);
        }
    }

    /// <summary>Turns interactions (in time order) into examples with the history before each, and appends them to the histories.</summary>
    private List<Example> ObserveLocked(IEnumerable<Interaction> interactions)
    {
        var examples = new List<Example>();
        foreach (var x in interactions.OrderBy(x => x.Timestamp))
        {
            if ((uint)x.User >= (uint)_histories.Length) throw new ArgumentOutOfRangeException(nameof(interactions), x.User, $"User index {x.User} is outside the {_histories.Length} known users.");
            if ((uint)x.Item >= (uint)_items.Dim(0)) throw new ArgumentOutOfRangeException(nameof(interactions), x.Item, $"Item index {x.Item} is outside the {_items.Dim(0)} items.");
            var before = _histories[x.User];
            examples.Add(new Example(x.User, x.Item, x.Timestamp, before, _lastTime[x.User]));
            var after = new int[before.Length + 1];
            after[0] = x.Item;
            before.CopyTo(after, 1);
            _histories[x.User] = after;
            _lastTime[x.User] = Math.Max(_lastTime[x.User], x.Timestamp);
        }
        AddItemTimes(interactions);
        return examples;
    }

    private void AddItemTimes(IEnumerable<Interaction> interactions)
    {
        foreach (var group in interactions.GroupBy(x => x.Item))
        {
            if ((uint)group.Key >= (uint)_itemTimes.Length) throw new ArgumentOutOfRangeException(nameof(interactions), group.Key, $"Item index {group.Key} is outside the {_itemTimes.Length} items.");
            var merged = _itemTimes[group.Key].Concat(group.Select(x => x.Timestamp)).ToArray();
            Array.Sort(merged);
            _itemTimes[group.Key] = merged;
            _clock = Math.Max(_clock, merged[^1]);
        }
    }

    /// <summary>
    /// The item's dynamic features at time <paramref name="t"/> from interactions strictly before it (no look-ahead):
    /// log(1 + count in the last day), log(1 + count in the last week), log(1 + count ever)/2, log(1 + days since the
    /// first)/2, and 1 if it was never interacted with.
    /// </summary>
    internal float[] ItemFeaturesAt(int item, long t)
    {
        var times = _itemTimes[item];
        int before = LowerBound(times, t);
        if (before == 0) return [0, 0, 0, 0, 1];
        int day = before - LowerBound(times, t - 86_400), week = before - LowerBound(times, t - 7 * 86_400);
        return [MathF.Log(1 + day), MathF.Log(1 + week), MathF.Log(1 + before) / 2, MathF.Log(1 + (t - times[0]) / 86_400f) / 2, 0];
    }

    private static int LowerBound(long[] sorted, long value)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] < value) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    /// <summary>(B, N, F) features of each row's candidates at each row's time, or null without item dynamics.</summary>
    private Tensor? CandidateFeatures(Snapshot s, IReadOnlyList<int[]> candidates, IReadOnlyList<long> times)
    {
        if (s.Items.ItemFeatureCount == 0) return null;
        int b = candidates.Count, n = candidates[0].Length, f = ItemFeatureCount;
        var t = new Tensor(b, n, f);
        for (int r = 0; r < b; r++)
            for (int j = 0; j < n; j++) ItemFeaturesAt(candidates[r][j], times[r]).CopyTo(t.Data.Slice((r * n + j) * f, f));
        return t;
    }

    private long TimeOf(RequestContext? context) => context?.Time is { } time ? time.ToUnixTimeSeconds() : _clock + 1;

    private void Remember(Example e)
    {
        _seenExamples++;
        if (_replay.Count < Options.ReplayCapacity) _replay.Add(e);
        else
        {
            long j = (long)(_rng.NextDouble() * _seenExamples);
            if (j < Options.ReplayCapacity) _replay[(int)j] = e;
        }
    }

    private (int Steps, double Loss) Train(Snapshot s, List<Example> examples, int epochs, float learningRate, IProgress<TrainingProgress>? progress, CancellationToken ct)
    {
        var parameters = s.Items.NamedParameters().Concat(s.Context?.NamedParameters().Select(p => ("context." + p.Name, p.Parameter)) ?? []);
        var optimizer = AdamW.Create(parameters, learningRate, 0.01f);
        var order = Enumerable.Range(0, examples.Count).ToArray();
        int steps = 0, totalSteps = epochs * ((examples.Count + Options.BatchSize - 1) / Options.BatchSize);
        double sum = 0;
        s.Items.Train();
        s.Context?.Train();
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            _rng.Shuffle(order.AsSpan());
            for (int start = 0; start < order.Length; start += Options.BatchSize)
            {
                ct.ThrowIfCancellationRequested();
                var batch = order.AsSpan(start, Math.Min(Options.BatchSize, order.Length - start)).ToArray().Select(i => examples[i]).ToArray();
                optimizer.ZeroGrad();
                var loss = Loss(s, batch);
                if (loss is null) continue;
                float value = loss.ToScalar();
                if (!float.IsFinite(value)) throw new InvalidOperationException($"The dynamic loss became {value} at step {steps + 1}; the snapshot in service is unchanged.");
                loss.Backward();
                Optimizer.ClipGradNorm(parameters.Select(p => p.Item2), 5f);
                optimizer.Step();
                sum += value;
                steps++;
                progress?.Report(new TrainingProgress(ProgressKind.Step, "dynamic items", epoch, epochs, steps, totalSteps, value));
            }
        }
        s.Items.Eval();
        s.Context?.Eval();
        return (steps, steps == 0 ? double.NaN : sum / steps);
    }

    /// <summary>
    /// Softmax of ⟨x_u, S_i⟩ over the example's static candidates, the very list the first stage would serve, with the
    /// interacted item as the target: examples whose item is not among the candidates are skipped (the re-ranker cannot
    /// change them, and training on them would teach it to prefer what the first stage ranks low). With
    /// <see cref="DynamicOptions.Negatives"/> below the candidate count, that many other candidates are sampled.
    /// Returns null when no example of the batch qualifies.
    /// </summary>
    private Tensor? Loss(Snapshot s, Example[] batch)
    {
        int d = _dimension;
        var vectors = _base.UserVectorsWithHistories(batch.Select(e => e.User).ToArray(), batch.Select(e => e.History).ToArray());
        var rows = new List<(int Row, int[] Candidates)>();
        for (int r = 0; r < batch.Length; r++)
        {
            var e = batch[r];
            var pool = _base.Index.Rank(vectors[r], Options.Candidates, new RankOptions { Filter = e.History.Length > 0 ? ItemFilter.Exclude(e.History) : null })
                .Select(c => c.ItemIndex).ToArray();
            if (Array.IndexOf(pool, e.Item) < 0) continue;
            var others = pool.Where(i => i != e.Item).ToArray();
            if (others.Length > Options.Negatives)
            {
                _rng.Shuffle(others.AsSpan());
                others = others[..Options.Negatives];
            }
            rows.Add((r, [e.Item, .. others]));
        }
        if (rows.Count == 0) return null;
        int b = rows.Count, n = rows.Min(x => x.Candidates.Length);
        var users = new Tensor(b, d);
        var cand = new Tensor(b, n, d);
        var histories = new int[b][];
        var contexts = new RequestContext[b];
        for (int k = 0; k < b; k++)
        {
            var (r, items) = rows[k];
            var e = batch[r];
            vectors[r].CopyTo(users.Data.Slice(k * d, d));
            for (int j = 0; j < n; j++) _items.Data.Slice(items[j] * d, d).CopyTo(cand.Data.Slice((k * n + j) * d, d));
            histories[k] = e.History;
            contexts[k] = RequestContext.AtUnixTime(e.Time, e.LastTime > 0 ? e.LastTime : null);
        }
        var ctx = s.Context?.Encode(contexts);
        var features = CandidateFeatures(s, rows.Select(x => x.Candidates[..n]).ToArray(), rows.Select(x => batch[x.Row].Time).ToArray());
        var logits = DynamicItemEncoder.Score(users, s.Items.Forward(cand, _items, histories, ctx, features, out _)); // (B, N), target column 0
        return Ops.CrossEntropy(logits, new int[b]);
    }

    private Snapshot Clone(Snapshot s, long version)
    {
        var rng = new Rng(0);
        var items = new DynamicItemEncoder(_dimension, Options.MaxHistory, rng, itemFeatures: s.Items.ItemFeatureCount);
        items.LoadParameters(s.Items.StateDict().ToDictionary(p => p.Key, p => p.Value.Clone()));
        ContextEncoder? context = null;
        if (s.Context is not null)
        {
            context = new ContextEncoder(_dimension, s.Context.Schema, rng);
            context.LoadParameters(s.Context.StateDict().ToDictionary(p => p.Key, p => p.Value.Clone()));
        }
        items.Eval();
        context?.Eval();
        return new Snapshot(items, context, version);
    }

    // ------------------------------------------------------------------ persistence

    private sealed record Manifest(string Format, int Version, DynamicOptions Options, long SnapshotVersion, int[][] Histories, long[] LastTimes, long[][] ItemTimes);

    /// <summary>
    /// Writes the base recommender (base/), the dynamic layers (dynamic.safetensors), the options, histories and snapshot
    /// version (dynamic.json) into <paramref name="folder"/>, atomically. Replay examples are not saved.
    /// </summary>
    public void Save(string folder)
    {
        Snapshot s;
        int[][] histories;
        long[] last;
        long[][] itemTimes;
        lock (_writeLock)
        {
            s = _snapshot;
            histories = [.. _histories];
            last = [.. _lastTime];
            itemTimes = [.. _itemTimes];
        }
        var bytes = ManifestJson.Serialize(new Manifest("hierrec-dynamic", 1, Options with { Context = s.Context?.Schema ?? Options.Context }, s.Version, histories, last, itemTimes));
        AtomicFile.WriteDirectory(folder, dir =>
        {
            _base.Save(Path.Combine(dir, "base"));
            AtomicFile.Write(Path.Combine(dir, "dynamic.json"), st => st.Write(bytes));
            SafeTensors.Save(Path.Combine(dir, "dynamic.safetensors"), s.Items.StateDict().Select(p => new KeyValuePair<string, Tensor>("items." + p.Key, p.Value))
                .Concat(s.Context?.StateDict().Select(p => new KeyValuePair<string, Tensor>("context." + p.Key, p.Value)) ?? []));
        });
    }

    /// <summary>Loads a folder written by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">The folder is not a dynamic recommender or its files disagree (named).</exception>
    public static DynamicRecommender Load(string folder)
    {
        var manifest = ManifestJson.Read<Manifest>(folder, "dynamic.json", "DynamicRecommender", "hierrec-dynamic", 1, m => (m.Format, m.Version));
        var baseRecommender = HierarchicalRecommender.Load(Path.Combine(folder, "base"));
        int d = baseRecommender.Model.Options.Dimension;
        var rng = new Rng(0);
        var items = new DynamicItemEncoder(d, manifest.Options.MaxHistory, rng, itemFeatures: manifest.Options.UseItemDynamics ? ItemFeatureCount : 0);
        var context = manifest.Options.UseContext ? new ContextEncoder(d, manifest.Options.Context, rng) : null;
        string weights = Path.Combine(folder, "dynamic.safetensors");
        var tensors = SafeTensors.Load(weights).Tensors;
        items.LoadParameters(tensors.Where(p => p.Key.StartsWith("items.", StringComparison.Ordinal)).ToDictionary(p => p.Key[6..], p => p.Value), source: weights);
        context?.LoadParameters(tensors.Where(p => p.Key.StartsWith("context.", StringComparison.Ordinal)).ToDictionary(p => p.Key[8..], p => p.Value), source: weights);
        items.Eval();
        context?.Eval();
        if (manifest.Histories.Length != baseRecommender.Context.Histories.Count || manifest.LastTimes.Length != manifest.Histories.Length)
            throw new InvalidDataException($"{Path.Combine(folder, "dynamic.json")}: {manifest.Histories.Length} histories for {baseRecommender.Context.Histories.Count} users.");
        var recommender = new DynamicRecommender(baseRecommender, manifest.Options, new Snapshot(items, context, manifest.SnapshotVersion));
        if (manifest.ItemTimes.Length != baseRecommender.Index.Count)
            throw new InvalidDataException($"{Path.Combine(folder, "dynamic.json")}: item times for {manifest.ItemTimes.Length} items, the base has {baseRecommender.Index.Count}.");
        recommender._histories = manifest.Histories;
        recommender._lastTime = manifest.LastTimes;
        recommender._itemTimes = manifest.ItemTimes;
        recommender._clock = manifest.ItemTimes.Where(t => t.Length > 0).Select(t => t[^1]).DefaultIfEmpty(0).Max();
        return recommender;
    }
}

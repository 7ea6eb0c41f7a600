using HierRec.Data;
using TorchSharp;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace HierRec.Items;

/// <summary>
/// Context-aware dynamic item representations served in two stages over a fitted <see cref="HierarchicalRecommender"/>:
/// the static index gives the top <see cref="DynamicOptions.Candidates"/> items for x_u (the user encoded from the
/// history observed so far), then each candidate's S_i = E_i + g ⊙ Attn(E_i, [history; context]) re-ranks them by
/// ⟨x_u, S_i⟩. <see cref="Update"/> fine-tunes the dynamic layers (never the base model) on new interactions mixed with
/// replayed older ones, on a copy, and swaps the copy in atomically. This file holds the state and the first fit;
/// serving, online training and persistence have files of their own.
/// </summary>
/// <remarks>
/// Thread-safety: <see cref="Recommend(string, RequestContext?, int)"/> and <see cref="Score(string, RequestContext?, IReadOnlyList{string})"/> may run concurrently with each other and with
/// <see cref="Observe"/> and <see cref="Update"/>: a request reads one parameter snapshot (old or new, never a mix) and one
/// version of each history. Updates and observations are serialised among themselves.
/// </remarks>
public sealed partial class DynamicRecommender
{
    /// <summary>The parameters one request reads: immutable once published.</summary>
    internal sealed class Snapshot(DynamicLayers layers, long version)
    {
        /// <summary>
        /// The recommender's hold while it serves this snapshot, plus one per reader; the last release disposes the layers
        /// (libtorch memory is not the GC's: a dropped snapshot would keep its native memory, and every Update replaces one).
        /// </summary>
        public RefCounted<DynamicLayers> Holds { get; } = new(layers);

        public DynamicLayers Layers => Holds.Value;
        public DynamicItemEncoder Items => Layers.Items;
        public ContextEncoder? Context => Layers.Context;
        public long Version { get; } = version;
    }

    /// <summary>The snapshot in service, held until the returned lease is disposed (Update may replace it meanwhile).</summary>
    internal SnapshotLease Hold()
    {
        while (true)
        {
            ThrowIfDisposed(); // after Dispose the owner's hold is gone and TryHold fails for good
            var s = _snapshot;
            if (s.Holds.TryHold()) return new SnapshotLease(s);
        }
    }

    internal readonly struct SnapshotLease(Snapshot snapshot) : IDisposable
    {
        public Snapshot Snapshot { get; } = snapshot;

        public void Dispose() => Snapshot.Holds.Release();
    }

    private readonly record struct Example(int User, int Item, long Time, int[] History, long LastTime);

    private readonly HierarchicalRecommender _base;
    private readonly Tensor _items;          // (items, D) static vectors E, the base's
    private readonly int _dimension, _itemCount;
    private readonly Lock _writeLock = new();
    private readonly Rng _rng;
    private readonly List<Example> _replay = [];
    private long _seenExamples;
    private volatile Snapshot _snapshot;
    private int[][] _histories;              // per user, most recent first; each array replaced, never mutated
    private long[] _lastTime;                // per user, Unix seconds of the last interaction (0: none)
    private long[][] _itemTimes;             // per item, interaction times ascending; each array replaced, never mutated
    private long _clock;                     // the latest interaction time observed
    private int[] _userSeen;                 // per user, interactions counted for the novelty share (see CountNovelty)
    private int[] _userNew;                  // per user, how many of those were with an item new at the time
    private long _seenTotal, _newTotal;      // the same over every user
    private long _logStart = long.MaxValue;  // the earliest interaction time observed

    /// <summary>Dynamic item features per candidate.</summary>
    internal const int ItemFeatureCount = 5;

    private DynamicRecommender(HierarchicalRecommender baseRecommender, DynamicOptions options, Snapshot snapshot)
    {
        _base = baseRecommender;
        Options = options;
        _dimension = baseRecommender.Model.Options.Dimension;
        _items = baseRecommender.ItemVectors;
        _itemCount = (int)_items.shape[0];
        _snapshot = snapshot;
        _rng = new Rng(options.Seed);
        int users = baseRecommender.Context.Histories.Count;
        _histories = [.. baseRecommender.Context.Histories];
        _lastTime = new long[users];
        _itemTimes = Enumerable.Repeat(Array.Empty<long>(), _itemCount).ToArray();
        _userSeen = new int[users];
        _userNew = new int[users];
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
        IsDisposed ? throw new ObjectDisposedException(nameof(DynamicRecommender)) : _base.UserMap.TryGetDense(userId ?? throw new ArgumentNullException(nameof(userId)), out int u) ? u : throw new KeyNotFoundException($"Unknown user '{userId}'.");

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
        int d = baseRecommender.Model.Options.Dimension;
        var snapshot = new Snapshot(DynamicLayers.Create(d, options, options.Context, options.Seed, baseRecommender.ItemVectors.device), 0);
        var recommender = new DynamicRecommender(baseRecommender, options, snapshot);
        try
        {
            foreach (var x in baseInteractions.Interactions) recommender._lastTime[x.User] = Math.Max(recommender._lastTime[x.User], x.Timestamp);
            recommender.CountNovelty(baseInteractions.Interactions.OrderBy(x => x.Timestamp).ToList());
            recommender.AddItemTimes(baseInteractions.Interactions);
            var examples = recommender.ObserveLocked(interactions.Interactions);
            recommender.Train(snapshot, examples, options.Epochs, options.LearningRate, progress, cancellationToken);
            foreach (var e in examples) recommender.Remember(e);
            return recommender;
        }
        catch
        {
            recommender.Dispose(); // frees the layers; the base recommender is the caller's
            throw;
        }
    }

    /// <summary>Appends interactions to the users' histories (no learning): what a server does between updates.</summary>
    public void Observe(IReadOnlyList<Interaction> interactions)
    {
        ArgumentNullException.ThrowIfNull(interactions);
        lock (_writeLock)
        {
            ThrowIfDisposed();
            ObserveLocked(interactions);
        }
    }

    /// <summary>Turns interactions (in time order) into examples with the history before each, and appends them to the histories.</summary>
    private List<Example> ObserveLocked(IEnumerable<Interaction> interactions)
    {
        var examples = new List<Example>();
        var list = interactions.ToList();
        foreach (var x in list)
        {
            if ((uint)x.User >= (uint)_histories.Length) throw new ArgumentOutOfRangeException(nameof(interactions), x.User, $"User index {x.User} is outside the {_histories.Length} known users.");
            if ((uint)x.Item >= (uint)_itemCount) throw new ArgumentOutOfRangeException(nameof(interactions), x.Item, $"Item index {x.Item} is outside the {_itemCount} items.");
        }
        var ordered = list.OrderBy(x => x.Timestamp).ToList();
        CountNovelty(ordered);
        foreach (var x in ordered)
        {
            var before = _histories[x.User];
            examples.Add(new Example(x.User, x.Item, x.Timestamp, before, _lastTime[x.User]));
            var after = new int[before.Length + 1];
            after[0] = x.Item;
            before.CopyTo(after, 1);
            _histories[x.User] = after;
            _lastTime[x.User] = Math.Max(_lastTime[x.User], x.Timestamp);
        }
        AddItemTimes(list);
        return examples;
    }

    /// <summary>
    /// Counts interactions (in time order, not yet in the items' times) towards their users' novelty shares: how many
    /// were with an item new at the time, first interacted with within <see cref="DynamicOptions.NewItemWindow"/>. Those
    /// within the first window of the log are left out: there every item looks new.
    /// </summary>
    private void CountNovelty(IReadOnlyList<Interaction> ordered)
    {
        if (ordered.Count == 0) return;
        long window = (long)Options.NewItemWindow.TotalSeconds;
        _logStart = Math.Min(_logStart, ordered[0].Timestamp);
        var firsts = new Dictionary<int, long>(); // items' first times including this batch's earlier interactions
        foreach (var x in ordered)
        {
            if ((uint)x.User >= (uint)_userSeen.Length || (uint)x.Item >= (uint)_itemCount) continue; // refused by the caller's checks
            if (!firsts.TryGetValue(x.Item, out long first)) first = _itemTimes[x.Item].Length > 0 ? _itemTimes[x.Item][0] : long.MaxValue;
            first = Math.Min(first, x.Timestamp);
            firsts[x.Item] = first;
            if (x.Timestamp - _logStart < window) continue;
            _userSeen[x.User]++;
            _seenTotal++;
            if (x.Timestamp - first < window)
            {
                _userNew[x.User]++;
                _newTotal++;
            }
        }
    }

    /// <summary>
    /// How much a user takes up new items: the share of their interactions that were with an item new at the time (first
    /// interacted with within <see cref="DynamicOptions.NewItemWindow"/>), and the same share over every user's. The
    /// kept places (<see cref="DynamicOptions.NewItemPlaces"/>) go to users whose share is at least
    /// <see cref="DynamicOptions.NewItemPlaceAudience"/> times everyone's. Interactions within the log's first window
    /// are not counted (every item looks new there); a share without any interaction counted is 0.
    /// </summary>
    public (double User, double Everyone) NewItemShare(string userId) => NewItemShare(UserIndex(userId));

    private (double User, double Everyone) NewItemShare(int user)
    {
        long seenAll = Interlocked.Read(ref _seenTotal), newAll = Interlocked.Read(ref _newTotal);
        int seen = Volatile.Read(ref _userSeen[user]), fresh = Volatile.Read(ref _userNew[user]);
        return (seen == 0 ? 0 : (double)fresh / seen, seenAll == 0 ? 0 : (double)newAll / seenAll);
    }

    /// <summary>The user's novelty counts: interactions counted, and those with an item new at the time.</summary>
    internal (int Seen, int New) NoveltyCounts(int user) => (_userSeen[user], _userNew[user]);

    /// <summary>
    /// Whether the kept places (<see cref="DynamicOptions.NewItemPlaces"/>) are offered to a user: their share of
    /// interactions with new items (<see cref="NewItemShare(string)"/>) is at least
    /// <see cref="DynamicOptions.NewItemPlaceAudience"/> times everyone's (always, with an audience of 0).
    /// </summary>
    public bool TakesUpNewItems(string userId) => TakesUpNewItems(UserIndex(userId));

    internal bool TakesUpNewItems(int user)
    {
        double m = Options.NewItemPlaceAudience;
        if (m == 0) return true;
        var share = NewItemShare(user);
        return share.Everyone > 0 && share.User >= m * share.Everyone; // a user with nothing counted has share 0: not offered
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
        var values = new float[b * n * f];
        for (int r = 0; r < b; r++)
            for (int j = 0; j < n; j++) ItemFeaturesAt(candidates[r][j], times[r]).CopyTo(values, (r * n + j) * f);
        return torch.tensor(values, [b, n, f], device: _items.device);
    }

    private long TimeOf(RequestContext? context) => context?.Time is { } time ? time.ToUnixTimeSeconds() : _clock + 1;

    /// <summary>(B, N, D) static vectors of each row's candidates (rows of equal length).</summary>
    private Tensor Gather(IReadOnlyList<int[]> rows)
    {
        int b = rows.Count, n = rows[0].Length;
        var ids = new long[b * n];
        for (int r = 0; r < b; r++)
            for (int j = 0; j < n; j++) ids[r * n + j] = rows[r][j];
        using var index = torch.tensor(ids, device: _items.device);
        using var flat = _items.index_select(0, index);
        return flat.reshape(b, n, _dimension);
    }

    private Tensor Users(IReadOnlyList<float[]> vectors) =>
        torch.tensor(vectors.SelectMany(v => v).ToArray(), [vectors.Count, _dimension], device: _items.device);
}

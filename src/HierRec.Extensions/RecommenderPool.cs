using HierRec.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace HierRec.Extensions;

/// <summary>
/// The named recommenders a service serves. <see cref="Rent"/> holds the version in service for one request; a reload
/// loads the new folder completely (verified, as <see cref="HierarchicalRecommender.Load"/> does) before it swaps the
/// version in, so a request that already holds the old version finishes on it, and a failed reload leaves the old
/// version serving. A replaced version is disposed (its native memory freed) once
/// <see cref="HierRecOptions.RetiredModelDisposeDelay"/> has passed and the last lease on it has ended. Thread-safe.
/// </summary>
public sealed partial class RecommenderPool : IDisposable
{
    /// <summary>One loaded version: its recommender, shared by the pool (while it serves or waits out the retirement delay) and the leases.</summary>
    internal sealed class Version(HierarchicalRecommender recommender, RecommenderModelInfo info)
    {
        public RefCounted<HierarchicalRecommender> Holds { get; } = new(recommender);

        public HierarchicalRecommender Recommender => Holds.Value;

        public RecommenderModelInfo Info { get; } = info;
    }

    private sealed class Slot(string name, HierRecModelOptions options)
    {
        public string Name { get; } = name;
        public HierRecModelOptions Options { get; } = options;
        public volatile Version? Current;
        public RecommenderModelInfo? Info;
        public readonly SemaphoreSlim Reloading = new(1, 1);
        public FileSystemWatcher? Watcher;
        public Timer? Debounce;
    }

    private readonly Dictionary<string, Slot> _slots;
    private readonly string? _default;
    private readonly TimeSpan _reloadDelay;
    private readonly ILogger<RecommenderPool> _logger;
    private readonly Func<string, HierarchicalRecommender> _load;
    private readonly TimeSpan _retireDelay;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Version, byte> _retiring = new();
    private readonly CancellationTokenSource _disposing = new();

    /// <summary>The pool of the configured models (nothing is loaded until <see cref="LoadAllAsync"/>).</summary>
    public RecommenderPool(IOptions<HierRecOptions> options, ILogger<RecommenderPool>? logger = null)
        : this(options, logger, folder => HierarchicalRecommender.Load(folder))
    {
    }

    internal RecommenderPool(IOptions<HierRecOptions> options, ILogger<RecommenderPool>? logger, Func<string, HierarchicalRecommender> load)
    {
        ArgumentNullException.ThrowIfNull(options);
        var o = options.Value;
        _slots = o.Models.ToDictionary(kv => kv.Key, kv => new Slot(kv.Key, kv.Value), StringComparer.Ordinal);
        _default = o.DefaultModel ?? (o.Models.Count == 1 ? o.Models.Keys.Single() : null);
        _reloadDelay = o.ReloadDelay;
        _retireDelay = o.RetiredModelDisposeDelay;
        _logger = logger ?? NullLogger<RecommenderPool>.Instance;
        _load = load;
    }

    /// <summary>The configured model names.</summary>
    public IReadOnlyCollection<string> Names => _slots.Keys;

    /// <summary>Whether every configured model is loaded (the readiness condition).</summary>
    public bool AllLoaded => _slots.Values.All(s => s.Current is not null);

    /// <summary>
    /// A hold on the version of <paramref name="name"/> in service (the default model when null) for one request: its
    /// recommender stays usable until the lease is disposed, whatever reloads happen meanwhile.
    /// <code>using var lease = pool.Rent("movies"); return lease.Recommender.Recommend(id, 10);</code>
    /// </summary>
    /// <exception cref="KeyNotFoundException">No model has that name.</exception>
    /// <exception cref="InvalidOperationException">The model is not loaded yet (see <see cref="AllLoaded"/>).</exception>
    public RecommenderLease Rent(string? name = null) =>
        TryRent(name) ?? throw new InvalidOperationException($"The model '{Find(name).Name}' is not loaded yet.");

    /// <summary>As <see cref="Rent"/>, or null while the model is loading.</summary>
    public RecommenderLease? TryRent(string? name = null)
    {
        var slot = Find(name);
        while (slot.Current is { } version)
        {
            if (version.Holds.TryHold()) return new RecommenderLease(version);
            // Released for good between the read and the hold: the slot already serves its successor (or nothing, after Dispose).
        }
        return null;
    }

    /// <summary>
    /// The recommender in service under <paramref name="name"/> (the default model when null), without a hold: after a
    /// reload it is disposed once <see cref="HierRecOptions.RetiredModelDisposeDelay"/> (30 s by default) has passed and
    /// no lease holds it, so use it only for work shorter than that. <see cref="Rent"/> holds it for as long as needed.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No model has that name.</exception>
    /// <exception cref="InvalidOperationException">The model is not loaded yet (see <see cref="AllLoaded"/>).</exception>
    public HierarchicalRecommender Get(string? name = null) =>
        Find(name).Current?.Recommender ?? throw new InvalidOperationException($"The model '{Find(name).Name}' is not loaded yet.");

    /// <summary>As <see cref="Get"/>, or null while the model is loading.</summary>
    public HierarchicalRecommender? TryGet(string? name = null) => Find(name).Current?.Recommender;

    /// <summary>Versions replaced by a reload and not disposed yet (waiting out the delay, or held by leases).</summary>
    public int RetiredVersions => _retiring.Count;

    /// <summary>What <paramref name="name"/> serves now, or null before its first load.</summary>
    public RecommenderModelInfo? Info(string? name = null) => Find(name).Info;

    /// <summary>Loads every model that is not loaded yet and starts watching the folders configured to be watched.</summary>
    public async Task LoadAllAsync(CancellationToken cancellationToken = default)
    {
        foreach (var slot in _slots.Values)
        {
            if (slot.Current is null) await ReloadAsync(slot.Name, cancellationToken).ConfigureAwait(false);
            if (slot.Options.WatchForChanges && slot.Watcher is null) Watch(slot);
        }
    }

    /// <summary>
    /// Loads <paramref name="name"/>'s folder again and swaps it in. Returns false, logging why, when the load fails;
    /// the version in service keeps serving. Concurrent reloads of one model run one after another.
    /// </summary>
    public async Task<bool> ReloadAsync(string? name = null, CancellationToken cancellationToken = default)
    {
        var slot = Find(name);
        await slot.Reloading.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var start = System.Diagnostics.Stopwatch.GetTimestamp();
            Log.Loading(_logger, slot.Name, slot.Options.Path);
            if (HierRec.Serialization.AtomicFile.NeedsRecovery(slot.Options.Path)) Log.Recovering(_logger, slot.Name, slot.Options.Path);
            HierarchicalRecommender loaded;
            try
            {
                loaded = await Task.Run(() => _load(slot.Options.Path), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException or ArgumentException)
            {
                Log.LoadFailed(_logger, ex, slot.Name, slot.Options.Path, slot.Current is null ? "nothing is served yet" : "the previous version keeps serving");
                if (slot.Info is { } info) slot.Info = info with { LastError = ex.Message };
                return false;
            }
            long generation = (slot.Info?.Generation ?? 0) + 1;
            slot.Info = new RecommenderModelInfo(slot.Name, slot.Options.Path, generation, DateTimeOffset.UtcNow, loaded.Context.Histories.Count, loaded.ItemIds.Count, null);
            var previous = slot.Current;
            bool swapped = previous is not null;
            slot.Current = new Version(loaded, slot.Info); // requests that hold the old version finish on it
            if (previous is not null) Retire(previous);
            double ms = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (swapped)
            {
                HierRecTelemetry.ModelSwaps.Add(1, new KeyValuePair<string, object?>("hierrec.model", slot.Name));
                Log.Swapped(_logger, slot.Name, generation, ms);
            }
            else Log.Loaded(_logger, slot.Name, slot.Options.Path, slot.Info.Users, slot.Info.Items, ms);
            return true;
        }
        finally
        {
            slot.Reloading.Release();
        }
    }

    /// <summary>
    /// Releases the pool's hold on a replaced version after the retirement delay (the holders of <see cref="Get"/>'s
    /// plain reference get that long); its last lease then disposes it.
    /// </summary>
    private void Retire(Version version)
    {
        _retiring[version] = 0;
        version.Holds.Disposed = () => _retiring.TryRemove(version, out _);
        if (_retireDelay <= TimeSpan.Zero || _disposing.IsCancellationRequested)
        {
            version.Holds.ReleaseOwner();
            return;
        }
        _ = Task.Delay(_retireDelay, _disposing.Token).ContinueWith(_ => version.Holds.ReleaseOwner(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private Slot Find(string? name)
    {
        name ??= _default ?? throw new InvalidOperationException($"No default model: name one of {string.Join(", ", _slots.Keys)} (or set HierRec:DefaultModel).");
        return _slots.TryGetValue(name, out var slot) ? slot : throw new KeyNotFoundException($"No model named '{name}' (models: {string.Join(", ", _slots.Keys)}).");
    }

    /// <summary>
    /// Saves replace the folder by renames, so the parent folder is watched (a watcher inside the folder would lose it
    /// at the first save): the folder's name appearing again (a save, or a repair) starts the quiet-time timer. Files
    /// edited in place inside the folder are not watched; <see cref="ReloadAsync"/> reloads on demand.
    /// </summary>
    private void Watch(Slot slot)
    {
        string full = Path.GetFullPath(slot.Options.Path).TrimEnd(Path.DirectorySeparatorChar);
        string parent = Path.GetDirectoryName(full)!, leaf = Path.GetFileName(full);
        if (!Directory.Exists(parent))
        {
            Log.WatchUnavailable(_logger, slot.Name, parent);
            return;
        }
        slot.Debounce = new Timer(_ => _ = ReloadFromWatcher(slot), null, Timeout.Infinite, Timeout.Infinite);
        // Only the parent's own entries: a save ends by renaming the new copy to the folder's name, which is the event
        // that matters (watching subdirectories would put a recursive watch on, say, all of /tmp).
        var watcher = new FileSystemWatcher(parent) { IncludeSubdirectories = false, NotifyFilter = NotifyFilters.DirectoryName | NotifyFilters.LastWrite };
        void Changed(string path)
        {
            if (Path.GetFileName(path) == leaf) slot.Debounce?.Change(_reloadDelay, Timeout.InfiniteTimeSpan);
        }
        watcher.Created += (_, e) => Changed(e.FullPath);
        watcher.Changed += (_, e) => Changed(e.FullPath);
        watcher.Renamed += (_, e) => Changed(e.FullPath);
        watcher.EnableRaisingEvents = true;
        slot.Watcher = watcher;
        Log.Watching(_logger, slot.Name, full);
    }

    private async Task ReloadFromWatcher(Slot slot)
    {
        Log.ChangeSeen(_logger, slot.Name);
        try
        {
            await ReloadAsync(slot.Name).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.LoadFailed(_logger, ex, slot.Name, slot.Options.Path, "the previous version keeps serving");
        }
    }

    /// <summary>
    /// Stops watching and releases the pool's holds: each version is disposed now, or when the last lease on it ends.
    /// </summary>
    public void Dispose()
    {
        if (_disposing.IsCancellationRequested) return;
        _disposing.Cancel();
        foreach (var slot in _slots.Values)
        {
            slot.Watcher?.Dispose();
            slot.Debounce?.Dispose();
            slot.Reloading.Dispose();
            var version = slot.Current;
            slot.Current = null;
            version?.Holds.ReleaseOwner();
        }
        foreach (var version in _retiring.Keys) version.Holds.ReleaseOwner();
        _retiring.Clear();
        _disposing.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Loading model {Model} from {Path}")]
        public static partial void Loading(ILogger logger, string model, string path);

        [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Loaded model {Model} from {Path}: {Users} users, {Items} items, {Milliseconds:F0} ms")]
        public static partial void Loaded(ILogger logger, string model, string path, int users, int items, double milliseconds);

        [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Swapped in model {Model} generation {Generation} ({Milliseconds:F0} ms to load); requests in flight finish on the previous one")]
        public static partial void Swapped(ILogger logger, string model, long generation, double milliseconds);

        [LoggerMessage(EventId = 4, Level = LogLevel.Error, Message = "Loading model {Model} from {Path} failed; {Consequence}")]
        public static partial void LoadFailed(ILogger logger, Exception exception, string model, string path, string consequence);

        [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "Watching {Path} for new versions of model {Model}")]
        public static partial void Watching(ILogger logger, string model, string path);

        [LoggerMessage(EventId = 6, Level = LogLevel.Information, Message = "The folder of model {Model} changed; reloading")]
        public static partial void ChangeSeen(ILogger logger, string model);

        [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "Model {Model}: cannot watch {Path} (it does not exist); reload it with ReloadAsync")]
        public static partial void WatchUnavailable(ILogger logger, string model, string path);

        [LoggerMessage(EventId = 8, Level = LogLevel.Warning, Message = "Model {Model}: an interrupted save left copies beside {Path}; loading repairs the folder (the newest complete, verified copy wins)")]
        public static partial void Recovering(ILogger logger, string model, string path);
    }
}

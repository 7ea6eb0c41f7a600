using System.Runtime;

namespace HierRec.Benchmarks.Baselines;

/// <summary>
/// A no-GC region of <see cref="HierRec.Training.NoCollection"/>'s budget (64 MB) around one call, as the libtorch
/// models' scoring opened one until 2026-12-07: the "before" of the benchmarks that measure its removal.
/// </summary>
internal readonly struct ScoringRegion : IDisposable
{
    private readonly bool _started;

    private ScoringRegion(bool started) => _started = started;

    /// <summary>Opens a region unless one is open already (NoCollection's rule); dispose to end it.</summary>
    public static ScoringRegion Open() =>
        new(GCSettings.LatencyMode != GCLatencyMode.NoGCRegion && GC.TryStartNoGCRegion(64L * 1024 * 1024, disallowFullBlockingGC: true));

    public void Dispose()
    {
        if (_started && GCSettings.LatencyMode == GCLatencyMode.NoGCRegion) GC.EndNoGCRegion(); // not ended early by the budget
    }
}

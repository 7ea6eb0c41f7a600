using System.Runtime;

namespace HierRec.Training;

/// <summary>
/// A region without garbage collections across training steps. TorchSharp 0.107 frees an implicitly created
/// <c>Scalar</c> (the alpha of <c>a + b</c>, the value of <c>x * 0.5</c> or <c>masked_fill</c>) in its finalizer and
/// does not keep it alive across the native call that reads it; a collection at the wrong moment frees it mid-call and
/// libtorch reads freed memory ("toFloat … Expected false to be true", "Unknown scalar type"). Without collections
/// during a step there is no such moment. When the steps have allocated the budget, the runtime ends the region at an
/// allocation (a safe point of the training thread) and the next step opens a new one.
/// </summary>
/// <remarks>
/// Scoring (evaluation, the sequential dimension's user states, serving) runs without a region: every Scalar HierRec
/// passes is explicit and kept alive (<see cref="Scalars"/>, checked by a test over the compiled assembly), and a region
/// costs a blocking gen2 collection when it opens. Until 2026-12-07 each scoring call opened one: a gen2 collection per
/// evaluation batch and per request for a new history's sequence state (benchmarks/README, "Evaluating again and
/// again").
/// </remarks>
internal static class NoCollection
{
    /// <summary>Bytes a step may allocate before the region ends by itself.</summary>
    private const long Budget = 64L * 1024 * 1024;

    /// <summary>
    /// Makes sure a region is open, without ending it afterwards: the training loop calls it before every step, so one
    /// region spans as many steps as its budget allows (opening a region can cost a collection: about 1.6 ms per
    /// BPR-MF step when each step opened its own), and the loop ends it with <see cref="End"/>.
    /// </summary>
    public static void Ensure() => Start();

    /// <summary>Ends the open region, if any.</summary>
    public static void End() => new Region(true).Dispose();

    private static bool Start()
    {
        if (GCSettings.LatencyMode == GCLatencyMode.NoGCRegion) return false; // nested, or another caller's region
        try
        {
            return GC.TryStartNoGCRegion(Budget, disallowFullBlockingGC: true);
        }
        catch (ArgumentOutOfRangeException)
        {
            return false; // the budget is more than this runtime's ephemeral space allows
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    public readonly struct Region(bool started) : IDisposable
    {
        public void Dispose()
        {
            if (!started || GCSettings.LatencyMode != GCLatencyMode.NoGCRegion) return; // ended early by an allocation past the budget
            try
            {
                GC.EndNoGCRegion();
            }
            catch (InvalidOperationException)
            {
                // a collection ended the region meanwhile
            }
        }
    }
}

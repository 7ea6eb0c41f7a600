using BenchmarkDotNet.Attributes;
using HierRec.Baselines;
using HierRec.Data;
using HierRec.Fusion;

namespace HierRec.Benchmarks.Baselines;

/// <summary>
/// One request's sequence state: the sequential dimension's s_u for a history the model has not seen (a new user, or a
/// request that passes its own history), as <c>Recommend</c> computes it for the fused query. The baseline opens a no-GC
/// region (<see cref="ScoringRegion"/>) around the call, as SASRec's scoring did until
/// 2026-12-07; the other is the call as it runs now. <see cref="LiveHeapMB"/> keeps that many megabytes of small objects
/// alive (0: an empty heap), standing in for a service's heap, which a forced collection might have to mark.
/// </summary>
[InProcess]
[WarmupCount(3)]
[IterationCount(15)]
[MemoryDiagnoser]
public class SequenceStateBenchmarks
{
    private SasRec _model = null!;
    private SequentialDimension _dimension = null!;
    private int[] _history = [];
    private float[] _state = [];
    private object[] _live = [];

    [Params(0, 256)]
    public int LiveHeapMB { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var data = Splits.Deduplicate(Splits.ToImplicit(SyntheticDataset.Generate(new SyntheticOptions { Users = 200, Items = 300 })));
        var split = Splits.RandomRatioPerUser(data, 0.8, 0.1, 0.1, seed: 4);
        _model = SasRec.Fit(split.Train, null, new SequentialOptions { MaxEpochs = 2, MinEpochs = 1 });
        _dimension = SequentialDimension.From(_model);
        var rng = new HierRec.Rng(1);
        _history = Enumerable.Range(0, 20).Select(_ => rng.NextInt(300)).ToArray();
        _state = new float[_dimension.Width];
        // A service's long-lived objects: strings and small arrays, 64 bytes each with their headers.
        _live = new object[LiveHeapMB * 1024 * 1024 / 64];
        for (int k = 0; k < _live.Length; k++) _live[k] = new byte[40];
    }

    [GlobalCleanup]
    public void Cleanup() => _dimension.Dispose();

    [Benchmark(Baseline = true)]
    public float[] InNoGcRegion()
    {
        using (ScoringRegion.Open()) _dimension.UserState(_history, _state);
        return _state;
    }

    [Benchmark]
    public float[] AsServed()
    {
        _dimension.UserState(_history, _state);
        return _state;
    }
}

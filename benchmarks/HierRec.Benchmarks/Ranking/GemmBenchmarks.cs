using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using HierRec.Ranking.Kernels;

namespace HierRec.Benchmarks.Ranking;

/// <summary>
/// The managed GEMM against OpenBLAS's cblas_sgemm (Debian libopenblas0-pthread, loaded only here), both on 2 threads.
/// OpenBLAS is the baseline rather than a naive loop: a naive 2048×1024×1024 product takes seconds and says nothing,
/// while the ratio to OpenBLAS is the figure the target is stated in.
/// </summary>
[Config(typeof(GflopsConfig))]
[SimpleJob(warmupCount: 3, iterationCount: 12)]
[MemoryDiagnoser]
public class GemmBenchmarks
{
    private float[] _a = [], _b = [], _c = [];
    private int _m, _n, _k;
    private bool _ta, _tb;
    private IGemmProvider _managed = ManagedGemm.Instance;
    private NativeBlasGemm? _blas;

    /// <summary>"M×N×K" plus transposes; BERT-mini shapes are the Linear forward (x·Wᵀ) and its two gradients.</summary>
    [Params(
        "512x512x512",
        "2048x1024x1024",
        "2048x256x256 B'",      // BERT-mini attention projections, forward
        "2048x768x256 B'",      // fused QKV, forward
        "2048x1024x256 B'",     // FFN up, forward
        "2048x256x1024 B'",     // FFN down, forward
        "256x1024x2048 A'",     // FFN up, weight gradient dW = dYᵀ X
        "1024x256x2048 A'",     // FFN down, weight gradient
        "2048x256x1024")]       // FFN up, input gradient dX = dY W
    public string Shape { get; set; } = "512x512x512";

    [GlobalSetup]
    public void Setup()
    {
        var parts = Shape.Split(' ');
        var dims = parts[0].Split('x').Select(int.Parse).ToArray();
        (_m, _n, _k) = (dims[0], dims[1], dims[2]);
        _ta = parts.Length > 1 && parts[1].Contains('A');
        _tb = parts.Length > 1 && parts[1].Contains('B');
        var rng = new Rng(42);
        _a = new float[_m * _k];
        _b = new float[_k * _n];
        _c = new float[_m * _n];
        rng.FillNormal(_a, 0, 1);
        rng.FillNormal(_b, 0, 1);
        _managed = new ManagedGemm(2);
        if (!NativeBlasGemm.TryLoad(out _blas) || !_blas!.TrySetThreads(2))
        {
            throw new InvalidOperationException("OpenBLAS (libopenblas.so.0) is needed for this comparison: apt-get install libopenblas0-pthread.");
        }
    }

    [Benchmark(Baseline = true, Description = "OpenBLAS cblas_sgemm")]
    public void OpenBlas() => _blas!.Sgemm(_ta, _tb, _m, _n, _k, 1f, _a, _ta ? _m : _k, _b, _tb ? _k : _n, 0f, _c, _n);

    [Benchmark(Description = "HierRec managed")]
    public void Managed() => _managed.Sgemm(_ta, _tb, _m, _n, _k, 1f, _a, _ta ? _m : _k, _b, _tb ? _k : _n, 0f, _c, _n);

    private sealed class GflopsConfig : ManualConfig
    {
        public GflopsConfig() => AddColumn(new MetricColumn("GFLOPS", "GFLOP/s", "2·M·N·K / mean time", c =>
        {
            var d = ((string)c.Parameters["Shape"]).Split(' ')[0].Split('x').Select(double.Parse).ToArray();
            return 2 * d[0] * d[1] * d[2];
        }));
    }
}

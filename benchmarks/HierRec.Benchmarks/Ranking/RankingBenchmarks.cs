using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using HierRec.Ranking;
using HierRec.Ranking.Kernels;

namespace HierRec.Benchmarks.Ranking;

/// <summary>Seeded catalogues shared by the ranking suites.</summary>
internal static class Catalogue
{
    /// <summary>Uniform(−1, 1) values: quick to generate for 256M-value catalogues, and as good as Gaussian for timing.</summary>
    public static float[] Make(int n, int d, ulong seed)
    {
        var a = new float[(long)n * d];
        new Rng(seed).FillUniform(a, -1f, 1f);
        return a;
    }
}

/// <summary>
/// One query against the whole catalogue: scores, full-catalogue softmax and the top 100. The naive loop is the
/// baseline; "Stream" sums the float32 catalogue with TensorPrimitives and is the memory-bandwidth reference, the
/// floor no float32 scan can beat.
/// </summary>
[Config(typeof(BandwidthConfig))]
[InProcess]
[WarmupCount(1)]
[IterationCount(6)]
[IterationTime(250)]
[MemoryDiagnoser]
public class SingleQueryBenchmarks
{
    private const int K = 100;
    private float[] _items = [];
    private float[] _query = [];
    private float[] _scores = [];
    private ItemIndex _f32 = null!, _f16 = null!, _i8 = null!;
    private readonly RankedItem[] _dest = new RankedItem[K];
    private static readonly RankOptions OneThread = new() { Threads = 1 };
    private static readonly RankOptions TwoThreads = new() { Threads = 2 };

    [Params(10_000, 100_000, 1_000_000)]
    public int N { get; set; }

    [Params(64, 128, 256)]
    public int D { get; set; }

    private void MakeData()
    {
        _items = Catalogue.Make(N, D, 1);
        _query = Catalogue.Make(1, D, 2);
        _scores = new float[N];
    }

    [GlobalSetup(Targets = [nameof(Naive), nameof(Linq), nameof(PerRowDot), nameof(Stream), nameof(StreamTwo)])]
    public void SetupBaselines() => MakeData();

    [GlobalSetup(Targets = [nameof(F32One), nameof(F32Two)])]
    public void SetupF32()
    {
        MakeData();
        _f32 = ItemIndex.Create(_items, N, D, VectorPrecision.Float32);
    }

    [GlobalSetup(Targets = [nameof(F16One), nameof(F16Two)])]
    public void SetupF16()
    {
        MakeData();
        _f16 = ItemIndex.Create(_items, N, D, VectorPrecision.Float16);
    }

    [GlobalSetup(Targets = [nameof(I8One), nameof(I8Two)])]
    public void SetupI8()
    {
        MakeData();
        _i8 = ItemIndex.Create(_items, N, D, VectorPrecision.Int8);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _f32?.Dispose();
        _f16?.Dispose();
        _i8?.Dispose();
        _f32 = _f16 = _i8 = null!;
        _items = [];
        GC.Collect();
    }

    [Benchmark(Baseline = true, Description = "naive loop")]
    public float Naive()
    {
        for (int i = 0; i < N; i++)
        {
            float s = 0;
            for (int j = 0; j < D; j++) s += _query[j] * _items[i * D + j];
            _scores[i] = s;
        }
        double max = double.NegativeInfinity, z = 0;
        for (int i = 0; i < N; i++) max = Math.Max(max, _scores[i]);
        for (int i = 0; i < N; i++) z += Math.Exp(_scores[i] - max);
        var ids = new int[N];
        for (int i = 0; i < N; i++) ids[i] = i;
        var keys = (float[])_scores.Clone();
        Array.Sort(keys, ids);
        return (float)(Math.Exp(keys[N - 1] - max) / z) + ids[N - K];
    }

    [Benchmark(Description = "LINQ")]
    public float Linq()
    {
        var scored = Enumerable.Range(0, N).Select(i => (Id: i, Score: _items.AsSpan(i * D, D).ToArray().Zip(_query, (a, b) => a * b).Sum())).ToArray();
        double max = scored.Max(s => s.Score);
        double z = scored.Sum(s => Math.Exp(s.Score - max));
        var top = scored.OrderByDescending(s => s.Score).ThenBy(s => s.Id).Take(K).ToArray();
        return (float)(Math.Exp(top[0].Score - max) / z);
    }

    [Benchmark(Description = "TensorPrimitives.Dot per row")]
    public float PerRowDot()
    {
        for (int i = 0; i < N; i++) _scores[i] = TensorPrimitives.Dot(_items.AsSpan(i * D, D), _query);
        float max = TensorPrimitives.Max(_scores);
        double z = 0;
        foreach (float s in _scores) z += Math.Exp(s - max);
        var pq = new PriorityQueue<int, float>(K + 1);
        for (int i = 0; i < N; i++)
        {
            if (pq.Count < K) pq.Enqueue(i, _scores[i]);
            else if (_scores[i] > _scores[pq.Peek()]) pq.EnqueueDequeue(i, _scores[i]);
        }
        return (float)(Math.Exp(_scores[pq.Peek()] - max) / z);
    }

    [Benchmark(Description = "HierRec float32, 1 thread")]
    public int F32One() => _f32.Rank(_query, K, _dest, OneThread);

    [Benchmark(Description = "HierRec float32, 2 threads")]
    public int F32Two() => _f32.Rank(_query, K, _dest, TwoThreads);

    [Benchmark(Description = "HierRec float16, 1 thread")]
    public int F16One() => _f16.Rank(_query, K, _dest, OneThread);

    [Benchmark(Description = "HierRec float16, 2 threads")]
    public int F16Two() => _f16.Rank(_query, K, _dest, TwoThreads);

    [Benchmark(Description = "HierRec int8, 1 thread")]
    public int I8One() => _i8.Rank(_query, K, _dest, OneThread);

    [Benchmark(Description = "HierRec int8, 2 threads")]
    public int I8Two() => _i8.Rank(_query, K, _dest, TwoThreads);

    [Benchmark(Description = "Stream (sum of catalogue), 1 thread")]
    public float Stream() => TensorPrimitives.Sum(_items);

    [Benchmark(Description = "Stream (sum of catalogue), 2 threads")]
    public float StreamTwo()
    {
        float a = 0, b = 0;
        int half = _items.Length / 2;
        Parallel.Invoke(() => a = TensorPrimitives.Sum(_items.AsSpan(0, half)), () => b = TensorPrimitives.Sum(_items.AsSpan(half)));
        return a + b;
    }

    private sealed class BandwidthConfig : ManualConfig
    {
        /// <summary>Bytes of catalogue read per query: 4·N·D for float32 scans, 2·N·D float16, N·D int8.</summary>
        public BandwidthConfig() => AddColumn(new MetricColumn("GBps", "GB/s", "Catalogue bytes streamed per query / mean time", c =>
        {
            double n = Convert.ToDouble(c.Parameters["N"]), d = Convert.ToDouble(c.Parameters["D"]);
            string name = c.Descriptor.WorkloadMethodDisplayInfo;
            return n * d * (name.Contains("float16") ? 2 : name.Contains("int8") ? 1 : 4);
        }));
    }
}

/// <summary>64 queries × 100k items × d = 64: one query at a time (baseline) against the blocked GEMM batch path.</summary>
[Config(typeof(GflopsBatchConfig))]
[InProcess]
[WarmupCount(2)]
[IterationCount(10)]
[MemoryDiagnoser]
public class BatchScoringBenchmarks
{
    private const int Q = 64, N = 100_000, D = 64, K = 100;
    private ItemIndex _index = null!;
    private float[] _queries = [];
    private readonly RankedItem[] _dest = new RankedItem[Q * K];
    private readonly int[] _counts = new int[Q];
    private float[] _scores = [];
    private float[] _items = [];

    [GlobalSetup]
    public void Setup()
    {
        _items = Catalogue.Make(N, D, 3);
        _index = ItemIndex.Create(_items, N, D);
        _queries = Catalogue.Make(Q, D, 4);
        _scores = new float[Q * N];
    }

    [GlobalCleanup]
    public void Cleanup() => _index.Dispose();

    [Benchmark(Baseline = true, Description = "64 single queries (float32, 2 threads)")]
    public int OneByOne()
    {
        int total = 0;
        for (int q = 0; q < Q; q++) total += _index.Rank(_queries.AsSpan(q * D, D), K, _dest.AsSpan(q * K, K), new RankOptions { Threads = 2 });
        return total;
    }

    [Benchmark(Description = "HierRec RankBatch (scores + softmax + top-100)")]
    public int Batch()
    {
        _index.RankBatch(_queries, Q, K, _dest, _counts, new RankOptions { Threads = 2 });
        return _counts[0];
    }

    [Benchmark(Description = "GEMM alone (scores only), the ceiling")]
    public void GemmOnly() => Gemm.Multiply(false, true, Q, N, D, 1f, _queries, D, _items, D, 0f, _scores, N);

    private sealed class GflopsBatchConfig : ManualConfig
    {
        public GflopsBatchConfig() => AddColumn(new MetricColumn("GFLOPS", "GFLOP/s", "2·Q·N·D / mean time (scoring flops only)", _ => 2.0 * Q * N * D));
    }
}

using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace HierRec.Ranking;

/// <summary>Ranking one query: the streaming scan, the log-sum-exp, the heap and the exact re-score.</summary>
public sealed unsafe partial class ItemIndex
{
    /// <summary>
    /// Writes the top <paramref name="k"/> items for <paramref name="query"/> into <paramref name="destination"/>, best
    /// first (ties: lower index first), and returns how many were written: min(k, Count), fewer if the filter or the
    /// score threshold leave fewer eligible items. k larger than the catalogue is clamped, not an error.
    /// </summary>
    /// <exception cref="ArgumentException">Wrong query length, a NaN or infinite query value, or a destination shorter than min(k, Count).</exception>
    /// <exception cref="ArgumentOutOfRangeException">k ≤ 0, or invalid options.</exception>
    public int Rank(ReadOnlySpan<float> query, int k, Span<RankedItem> destination, RankOptions? options = null)
    {
        options ??= RankOptions.Default;
        options.Validate();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        CheckQuery(query, nameof(query));
        int kk = Math.Min(k, Count);
        if (destination.Length < kk) throw new ArgumentException($"The destination holds {destination.Length} items; {kk} are needed.", nameof(destination));
        if (Count == 0) return 0;

        int pool = PoolSize(kk, options);
        _lock.EnterReadLock();
        try
        {
            return RankCore(query, kk, pool, destination, options);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    private int PoolSize(int k, RankOptions options) => Precision == VectorPrecision.Float32
        ? k
        : Math.Min(Count, options.RerankPool > 0 ? Math.Max(options.RerankPool, k) : Math.Max(4 * k, k + 64));

    /// <summary>The top <paramref name="k"/> items for <paramref name="query"/>, best first.</summary>
    public RankedItem[] Rank(ReadOnlySpan<float> query, int k, RankOptions? options = null)
    {
        var result = new RankedItem[Math.Min(Math.Max(k, 1), Count)];
        int n = Rank(query, k, result, options);
        return n == result.Length ? result : result[..n];
    }

    /// <summary>Exact float32 scores of every item for <paramref name="query"/> (destination of length Count).</summary>
    public void Score(ReadOnlySpan<float> query, Span<float> destination)
    {
        CheckQuery(query, nameof(query));
        if (destination.Length < Count) throw new ArgumentException($"The destination holds {destination.Length} scores; {Count} are needed.", nameof(destination));
        _lock.EnterReadLock();
        try
        {
            float* q = stackalloc float[Stride];
            float qInv = PrepareQuery(query, q);
            fixed (float* items = _f32)
            fixed (float* d = destination)
            {
                ScoringKernels.DotF32(q, items, Stride, Count, d);
            }
            if (Similarity == Similarity.Cosine) ApplyCosine(destination[..Count], 0, qInv);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    private void CheckQuery(ReadOnlySpan<float> query, string name)
    {
        if (query.Length != Dimension) throw new ArgumentException($"The query has {query.Length} values; the index has dimension {Dimension}.", name);
        for (int j = 0; j < query.Length; j++)
        {
            if (!float.IsFinite(query[j])) throw new ArgumentException($"The query has a non-finite value ({query[j]}) at position {j}.", name);
        }
        float norm = TensorPrimitives.Norm(query); // vectorised; past 1.8e19 it overflows to +∞, which the bound rejects too
        if (!(norm <= MaxNorm)) throw new ArgumentException($"The query's norm is {norm:G3}; queries and items are limited to {MaxNorm:G1} so that scores stay finite.", name);
    }

    /// <summary>Copies the query into a zero-padded stride buffer; returns 1/|q| (0 for a zero query).</summary>
    private float PrepareQuery(ReadOnlySpan<float> query, float* q)
    {
        var qs = new Span<float>(q, Stride);
        qs.Clear();
        query.CopyTo(qs);
        float norm = TensorPrimitives.Norm(query);
        return norm > 0 ? 1f / norm : 0f;
    }

    private void ApplyCosine(Span<float> scores, int firstItem, float qInv)
    {
        TensorPrimitives.Multiply(scores, _invNorm.AsSpan(firstItem, scores.Length), scores);
        TensorPrimitives.Multiply(scores, qInv, scores);
    }

    private int RankCore(ReadOnlySpan<float> query, int k, int pool, Span<RankedItem> destination, RankOptions options)
    {
        float* q = stackalloc float[Stride];
        float qInv = PrepareQuery(query, q);
        short[]? q16 = null;
        float qScale = 0;
        if (Precision == VectorPrecision.Int8)
        {
            q16 = ArrayPool<short>.Shared.Rent(Int8Stride);
            qScale = ScoringKernels.QuantizeQuery(query, q16.AsSpan(0, Int8Stride));
        }
        int threads = options.Threads > 0 ? options.Threads : ((long)Count * Stride >= ParallelElements ? Environment.ProcessorCount : 1);
        threads = Math.Max(1, Math.Min(threads, (Count + BlockRows - 1) / BlockRows));
        var scoreBufs = new float[threads][];
        var idBufs = new int[threads][];
        var lses = new LogSumExp[threads];
        var counts = new int[threads];
        try
        {
            nint qAddr = (nint)q;
            float invT = 1f / options.Temperature;
            void Part(int t)
            {
                int start = (int)((long)Count * t / threads), end = (int)((long)Count * (t + 1) / threads);
                scoreBufs[t] = ArrayPool<float>.Shared.Rent(pool);
                idBufs[t] = ArrayPool<int>.Shared.Rent(pool);
                var heap = new TopKHeap(scoreBufs[t], idBufs[t], pool);
                lses[t] = ScanRange((float*)qAddr, q16, qScale, qInv, invT, start, end, ref heap, options);
                counts[t] = heap.DrainSorted(scoreBufs[t], idBufs[t]);
            }
            if (threads == 1) Part(0);
            else Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, Part);

            // Merge the parts' candidates: each part is sorted, total at most threads × pool.
            var merged = new TopKHeap(new float[pool], new int[pool], pool);
            var lse = LogSumExp.Empty;
            for (int t = 0; t < threads; t++)
            {
                lse.Merge(lses[t]);
                for (int i = 0; i < counts[t]; i++) merged.Push(scoreBufs[t][i], idBufs[t][i]);
            }
            return Finish(q, qInv, ref merged, k, invT, lse, options, destination);
        }
        finally
        {
            for (int t = 0; t < threads; t++)
            {
                if (scoreBufs[t] is not null) ArrayPool<float>.Shared.Return(scoreBufs[t]);
                if (idBufs[t] is not null) ArrayPool<int>.Shared.Return(idBufs[t]);
            }
            if (q16 is not null) ArrayPool<short>.Shared.Return(q16);
        }
    }

    /// <summary>
    /// Turns merged candidates into results: quantised indexes re-score the pool exactly in float32 and keep the best
    /// k; probabilities are exp(score/T − log Z) with Z over the whole catalogue.
    /// </summary>
    private int Finish(float* q, float qInv, ref TopKHeap candidates, int k, float invT, LogSumExp lse, RankOptions options, Span<RankedItem> destination)
    {
        var candScores = new float[candidates.Capacity];
        var candIds = new int[candidates.Capacity];
        int n = candidates.DrainSorted(candScores, candIds);
        if (Precision != VectorPrecision.Float32)
        {
            // Re-score the pool exactly, and swap each candidate's approximate term in Z for its exact one, so the
            // probabilities returned are consistent with the exact scores returned (the pool holds most of the mass).
            var exactScores = new float[n];
            fixed (float* items = _f32)
            {
                for (int i = 0; i < n; i++)
                {
                    int id = candIds[i];
                    float s = TensorPrimitives.Dot(new ReadOnlySpan<float>(q, Stride), new ReadOnlySpan<float>(items + (long)id * Stride, Stride));
                    if (Similarity == Similarity.Cosine) s *= _invNorm[id] * qInv;
                    exactScores[i] = s;
                }
            }
            lse = lse.ReplaceTerms(candScores.AsSpan(0, n), exactScores, invT);
            var exact = new TopKHeap(new float[k], new int[k], k);
            for (int i = 0; i < n; i++) if (exactScores[i] >= options.MinScore) exact.Push(exactScores[i], candIds[i]);
            n = exact.DrainSorted(candScores, candIds);
        }
        n = Math.Min(n, k);
        double logZ = lse.Value, total = 0;
        var p = new double[n];
        for (int i = 0; i < n; i++)
        {
            p[i] = Math.Clamp(Math.Exp(candScores[i] * (double)invT - logZ), 0, 1);
            total += p[i];
        }
        // Rounding (scores summed in float32 blocks, exponentials in double) may leave the top k a hair above 1: renormalise.
        double scale = total > 1 ? 1 / total : 1;
        for (int i = 0; i < n; i++) destination[i] = new RankedItem(candIds[i], candScores[i], (float)Math.Min(1, p[i] * scale));
        return n;
    }

    /// <summary>
    /// Offers a block of scores (items first.. first + count) to the heap. Eight scores at a time are compared with
    /// the current bar (the k-th best score, or MinScore) in one vector compare, so the common case, nothing in the
    /// block beats the bar, costs a fraction of a cycle per item; the filter is consulted only for real candidates.
    /// </summary>
    private static void OfferBlock(ReadOnlySpan<float> scores, int first, ref TopKHeap heap, ItemFilter? filter, float minScore)
    {
        float bar = Math.Max(heap.Threshold, minScore);
        int i = 0;
        if (System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated)
        {
            ref float s0 = ref MemoryMarshal.GetReference(scores);
            var vbar = System.Runtime.Intrinsics.Vector256.Create(bar);
            for (; i <= scores.Length - 8; i += 8)
            {
                var v = System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref s0, (nuint)i);
                uint mask = System.Runtime.Intrinsics.Vector256.ExtractMostSignificantBits(System.Runtime.Intrinsics.Vector256.GreaterThanOrEqual(v, vbar));
                while (mask != 0)
                {
                    int j = i + System.Numerics.BitOperations.TrailingZeroCount(mask);
                    mask &= mask - 1;
                    if (Offer(scores[j], first + j, ref heap, filter, minScore))
                    {
                        bar = Math.Max(heap.Threshold, minScore);
                        vbar = System.Runtime.Intrinsics.Vector256.Create(bar);
                    }
                }
            }
        }
        // Tail (and no SIMD): scalar compares against the same bar.
        for (; i < scores.Length; i++)
        {
            if (scores[i] >= bar && Offer(scores[i], first + i, ref heap, filter, minScore)) bar = Math.Max(heap.Threshold, minScore);
        }
    }

    private static bool Offer(float v, int id, ref TopKHeap heap, ItemFilter? filter, float minScore)
    {
        if (v < minScore || !heap.Accepts(v, id)) return false;
        if (filter is not null && !filter.Allows(id)) return false;
        heap.Push(v, id);
        return true;
    }

    /// <summary>Scores items [start, end) block by block, folding every score into the log-sum-exp and the best into the heap.</summary>
    private LogSumExp ScanRange(float* q, short[]? q16, float qScale, float qInv, float invT, int start, int end, ref TopKHeap heap, RankOptions options)
    {
        float* scores = stackalloc float[BlockRows];
        float[]? f16Scratch = Precision == VectorPrecision.Float16 ? ArrayPool<float>.Shared.Rent(32 * Stride) : null;
        var lse = LogSumExp.Empty;
        var filter = options.Filter;
        float minScore = options.MinScore;
        try
        {
            fixed (float* f32 = _f32)
            fixed (Half* f16 = _f16)
            fixed (sbyte* i8 = _i8)
            fixed (float* i8Scale = _i8Scale)
            fixed (short* qi = q16)
            fixed (float* f16s = f16Scratch)
            {
                for (int r0 = start; r0 < end; r0 += BlockRows)
                {
                    int rows = Math.Min(BlockRows, end - r0);
                    switch (Precision)
                    {
                        case VectorPrecision.Float32:
                            ScoringKernels.DotF32(q, f32 + (long)r0 * Stride, Stride, rows, scores);
                            break;
                        case VectorPrecision.Float16:
                            ScoringKernels.DotF16(q, f16 + (long)r0 * Stride, Stride, rows, scores, f16s, 32);
                            break;
                        default:
                            ScoringKernels.DotI8(qi, i8 + (long)r0 * Int8Stride, Int8Stride, rows, i8Scale + r0, qScale, scores);
                            break;
                    }
                    var s = new Span<float>(scores, rows);
                    if (Similarity == Similarity.Cosine) ApplyCosine(s, r0, qInv);
                    // Exact log-sum-exp over every item (the softmax's denominator), in the same pass.
                    lse.AddScaled(s, invT);
                    // Only scores that beat the current k-th best reach the heap, and only they meet the filter.
                    OfferBlock(s, r0, ref heap, filter, minScore);
                }
            }
        }
        finally
        {
            if (f16Scratch is not null) ArrayPool<float>.Shared.Return(f16Scratch);
        }
        return lse;
    }
}

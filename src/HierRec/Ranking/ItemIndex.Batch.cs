using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using HierRec.Ranking.Kernels;

namespace HierRec.Ranking;

/// <summary>Ranking a batch of queries: a block of items at a time through the GEMM, each row reused across queries.</summary>
public sealed unsafe partial class ItemIndex
{
    /// <summary>
    /// Ranks a batch of queries (row-major, queryCount × Dimension): destination row q holds query q's top k, and
    /// counts[q] how many were written. Scores are computed a block of items at a time with the GEMM, so each item
    /// row is reused across all queries.
    /// </summary>
    public void RankBatch(ReadOnlySpan<float> queries, int queryCount, int k, Span<RankedItem> destination, Span<int> counts, RankOptions? options = null)
    {
        options ??= RankOptions.Default;
        options.Validate();
        ArgumentOutOfRangeException.ThrowIfNegative(queryCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        if (queries.Length != (long)queryCount * Dimension)
            throw new ArgumentException($"The queries hold {queries.Length} values; {queryCount} × {Dimension} are needed.", nameof(queries));
        if (destination.Length < (long)queryCount * k) throw new ArgumentException($"The destination needs {queryCount} × {k} items.", nameof(destination));
        if (counts.Length < queryCount) throw new ArgumentException($"counts needs {queryCount} elements.", nameof(counts));
        for (int i = 0; i < queryCount; i++) CheckQuery(queries.Slice(i * Dimension, Dimension), nameof(queries));
        if (queryCount == 0 || Count == 0)
        {
            counts[..queryCount].Clear();
            return;
        }
        int kk = Math.Min(k, Count);
        int pool = PoolSize(kk, options);
        _lock.EnterReadLock();
        try
        {
            RankBatchCore(queries, queryCount, kk, pool, k, destination, counts, options);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    private void RankBatchCore(ReadOnlySpan<float> queries, int nq, int kk, int pool, int k, Span<RankedItem> destination, Span<int> counts, RankOptions options)
    {
        // Queries padded to the stride, so the GEMM can read item rows in place (ldb = Stride).
        var qPad = new float[nq * Stride];
        var qInv = new float[nq];
        for (int i = 0; i < nq; i++)
        {
            var src = queries.Slice(i * Dimension, Dimension);
            src.CopyTo(qPad.AsSpan(i * Stride, Dimension));
            float norm = TensorPrimitives.Norm(src);
            qInv[i] = norm > 0 ? 1f / norm : 0f;
        }
        int threads = options.Threads > 0 ? options.Threads : ((long)Count * Stride * nq >= ParallelElements ? Environment.ProcessorCount : 1);
        const int ItemBlock = 1024;
        threads = Math.Max(1, Math.Min(threads, (Count + ItemBlock - 1) / ItemBlock));
        var single = new ManagedGemm(1);
        var heapScores = new float[threads][][];
        var heapIds = new int[threads][][];
        var lses = new LogSumExp[threads][];
        var heapCounts = new int[threads][];
        float invT = 1f / options.Temperature;
        var filter = options.Filter;
        void Part(int t)
        {
            int start = (int)((long)Count * t / threads), end = (int)((long)Count * (t + 1) / threads);
            var heaps = new TopKHeap[nq];
            heapScores[t] = new float[nq][];
            heapIds[t] = new int[nq][];
            lses[t] = new LogSumExp[nq];
            heapCounts[t] = new int[nq];
            for (int i = 0; i < nq; i++)
            {
                heapScores[t][i] = new float[pool];
                heapIds[t][i] = new int[pool];
                heaps[i] = new TopKHeap(heapScores[t][i], heapIds[t][i], pool);
                lses[t][i] = LogSumExp.Empty;
            }
            var block = new float[nq * ItemBlock];
            float[]? converted = Precision == VectorPrecision.Float32 ? null : new float[ItemBlock * Stride];
            for (int r0 = start; r0 < end; r0 += ItemBlock)
            {
                int rows = Math.Min(ItemBlock, end - r0);
                ReadOnlySpan<float> itemRows;
                if (Precision == VectorPrecision.Float32) itemRows = _f32.AsSpan(r0 * Stride, rows * Stride);
                else
                {
                    DequantizeRows(r0, rows, converted!);
                    itemRows = converted.AsSpan(0, rows * Stride);
                }
                // scores (nq × rows) = Q (nq × Stride) · Itemsᵀ
                single.Sgemm(false, true, nq, rows, Stride, 1f, qPad, Stride, itemRows, Stride, 0f, block, rows);
                for (int i = 0; i < nq; i++)
                {
                    var s = block.AsSpan(i * rows, rows);
                    if (Similarity == Similarity.Cosine) ApplyCosine(s, r0, qInv[i]);
                    lses[t][i].AddScaled(s, invT);
                    OfferBlock(s, r0, ref heaps[i], filter, options.MinScore);
                }
            }
            for (int i = 0; i < nq; i++) heapCounts[t][i] = heaps[i].DrainSorted(heapScores[t][i], heapIds[t][i]);
        }
        void PartItemMajor(int t)
        {
            int start = (int)((long)Count * t / threads), end = (int)((long)Count * (t + 1) / threads);
            ScanItemMajor(qPad, qInv, nq, pool, invT, options, start, end, out heapScores[t], out heapIds[t], out lses[t], out heapCounts[t]);
        }
        Action<int> part = System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated ? PartItemMajor : Part;
        if (threads == 1) part(0);
        else Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, part);

        fixed (float* qAll = qPad)
        {
            for (int i = 0; i < nq; i++)
            {
                var merged = new TopKHeap(new float[pool], new int[pool], pool);
                var lse = LogSumExp.Empty;
                for (int t = 0; t < threads; t++)
                {
                    lse.Merge(lses[t][i]);
                    for (int j = 0; j < heapCounts[t][i]; j++) merged.Push(heapScores[t][i][j], heapIds[t][i][j]);
                }
                counts[i] = Finish(qAll + (long)i * Stride, qInv[i], ref merged, kk, invT, lse, options, destination.Slice(i * k, k));
            }
        }
    }

    /// <summary>
    /// The batch scan on Vector256 hardware: scores a block of items against all queries with
    /// <see cref="BatchScoring"/> (item rows read in place, item-major output), then folds the block into every
    /// query's log-sum-exp and heap with vector operations across queries (eight queries per instruction).
    /// </summary>
    private void ScanItemMajor(float[] qPad, float[] qInv, int nq, int pool, float invT, RankOptions options, int start, int end,
        out float[][] heapScores, out int[][] heapIds, out LogSumExp[] lses, out int[] heapCounts)
    {
        const int ItemBlock = 512;
        int panels = (nq + BatchScoring.QueryPanel - 1) / BatchScoring.QueryPanel, ld = panels * BatchScoring.QueryPanel, vecs = ld / 8;
        var packedQ = BatchScoring.PackQueries(qPad, nq, Stride);
        var heaps = new TopKHeap[nq];
        heapScores = new float[nq][];
        heapIds = new int[nq][];
        lses = new LogSumExp[nq];
        heapCounts = new int[nq];
        for (int i = 0; i < nq; i++)
        {
            heapScores[i] = new float[pool];
            heapIds[i] = new int[pool];
            heaps[i] = new TopKHeap(heapScores[i], heapIds[i], pool);
            lses[i] = LogSumExp.Empty;
        }
        var bars = new float[ld];
        for (int i = 0; i < ld; i++) bars[i] = i < nq ? options.MinScore : float.PositiveInfinity; // padding lanes never pass
        var qScale = new float[ld];
        for (int i = 0; i < nq; i++) qScale[i] = qInv[i];
        var block = new float[ItemBlock * ld];
        var blockMax = new float[ld];
        var blockSum = new float[ld];
        float[]? converted = Precision == VectorPrecision.Float32 ? null : new float[ItemBlock * Stride];
        var vInvT = System.Runtime.Intrinsics.Vector256.Create(invT);
        var filter = options.Filter;
        fixed (float* f32 = _f32)
        fixed (float* conv = converted)
        fixed (float* pq = packedQ)
        fixed (float* sc = block)
        fixed (float* bmax = blockMax)
        fixed (float* bsum = blockSum)
        fixed (float* bar = bars)
        fixed (float* qs = qScale)
        {
            for (int r0 = start; r0 < end; r0 += ItemBlock)
            {
                int rows = Math.Min(ItemBlock, end - r0);
                float* itemRows = f32 + (long)r0 * Stride;
                if (Precision != VectorPrecision.Float32)
                {
                    DequantizeRows(r0, rows, converted!);
                    itemRows = conv;
                }
                BatchScoring.Score(itemRows, Stride, rows, pq, panels, sc, ld);
                if (Similarity == Similarity.Cosine)
                {
                    for (int r = 0; r < rows; r++)
                    {
                        var scale = System.Runtime.Intrinsics.Vector256.Create(_invNorm[r0 + r]);
                        for (int v = 0; v < vecs; v++)
                        {
                            float* row = sc + (long)r * ld + v * 8;
                            (System.Runtime.Intrinsics.Vector256.Load(row) * scale * System.Runtime.Intrinsics.Vector256.Load(qs + v * 8)).Store(row);
                        }
                    }
                }
                // Per-query block maxima, then Σ e^{s/T − m} per query, eight queries per vector.
                for (int v = 0; v < vecs; v++)
                {
                    var mx = System.Runtime.Intrinsics.Vector256.Create(float.NegativeInfinity);
                    for (int r = 0; r < rows; r++) mx = System.Runtime.Intrinsics.Vector256.MaxNative(mx, System.Runtime.Intrinsics.Vector256.Load(sc + (long)r * ld + v * 8));
                    (mx * vInvT).Store(bmax + v * 8);
                }
                for (int i = 0; i < nq; i++) bmax[i] = Math.Max(bmax[i], lses[i].Max);
                for (int v = 0; v < vecs; v++)
                {
                    var m = System.Runtime.Intrinsics.Vector256.Load(bmax + v * 8);
                    var acc = System.Runtime.Intrinsics.Vector256<float>.Zero;
                    for (int r = 0; r < rows; r++)
                    {
                        var z = System.Runtime.Intrinsics.Vector256.FusedMultiplyAdd(System.Runtime.Intrinsics.Vector256.Load(sc + (long)r * ld + v * 8), vInvT, -m);
                        acc += HierRec.Ranking.Kernels.Exponential.Exp(z);
                    }
                    acc.Store(bsum + v * 8);
                }
                for (int i = 0; i < nq; i++)
                {
                    ref var l = ref lses[i];
                    float m = bmax[i];
                    if (float.IsNegativeInfinity(m)) continue;
                    l.Sum = l.Sum * Math.Exp(l.Max - m) + bsum[i];
                    l.Max = m;
                }
                // Offers: one vector compare of a row's scores against the queries' bars.
                for (int r = 0; r < rows; r++)
                {
                    float* row = sc + (long)r * ld;
                    for (int v = 0; v < vecs; v++)
                    {
                        uint mask = System.Runtime.Intrinsics.Vector256.ExtractMostSignificantBits(
                            System.Runtime.Intrinsics.Vector256.GreaterThanOrEqual(System.Runtime.Intrinsics.Vector256.Load(row + v * 8), System.Runtime.Intrinsics.Vector256.Load(bar + v * 8)));
                        while (mask != 0)
                        {
                            int qi = v * 8 + System.Numerics.BitOperations.TrailingZeroCount(mask);
                            mask &= mask - 1;
                            if (Offer(row[qi], r0 + r, ref heaps[qi], filter, options.MinScore)) bar[qi] = Math.Max(heaps[qi].Threshold, options.MinScore);
                        }
                    }
                }
            }
        }
        for (int i = 0; i < nq; i++) heapCounts[i] = heaps[i].DrainSorted(heapScores[i], heapIds[i]);
    }

    /// <summary>Expands quantised rows back to float32 (what the batch path scores, so batch and single agree per precision).</summary>
    private void DequantizeRows(int r0, int rows, float[] destination)
    {
        if (Precision == VectorPrecision.Float16)
        {
            TensorPrimitives.ConvertToSingle(_f16.AsSpan(r0 * Stride, rows * Stride), destination.AsSpan(0, rows * Stride));
            return;
        }
        for (int r = 0; r < rows; r++)
        {
            var dst = destination.AsSpan(r * Stride, Stride);
            dst.Clear();
            var src = _i8.AsSpan((r0 + r) * Int8Stride, Dimension);
            float scale = _i8Scale![r0 + r];
            for (int j = 0; j < Dimension; j++) dst[j] = src[j] * scale;
        }
    }
}

using System.Buffers;
using System.Buffers.Binary;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using HierRec.Ranking.Kernels;
using HierRec.Serialization;

namespace HierRec.Ranking;

/// <summary>
/// A catalogue of item vectors that answers "the top k items for this query vector, with their probabilities under
/// the full-catalogue softmax" in one streaming pass.
/// </summary>
/// <remarks>
/// <para>Storage is contiguous, row-padded to a SIMD-friendly stride, in float32, float16 or int8 with a per-item scale.
/// A float32 copy is always kept: quantised indexes scan their compact rows (2× or 4× less memory traffic) to collect
/// a candidate pool, then re-score the pool exactly in float32, so returned scores are exact.</para>
/// <para>One pass over the catalogue computes the scores block by block, folds them into an exact running
/// log-sum-exp over all n items (so <see cref="RankedItem.Probability"/> is the full softmax, not a softmax of the
/// top k), and feeds only the scores that beat the current k-th best to a bounded heap, where the filter is checked.
/// Large catalogues are split across cores; each part keeps its own heap and log-sum-exp, merged at the end.</para>
/// <para>Thread-safety: any number of concurrent queries. <see cref="Update(int, ReadOnlySpan{float})"/> may run
/// concurrently with queries: it waits until queries in flight have finished, then replaces the vector, and queries
/// that start afterwards see the new vector; no query ever sees a half-written vector.</para>
/// </remarks>
public sealed unsafe class ItemIndex : IDisposable
{
    private const int BlockRows = 1024; // scores of one block stay in L1; larger blocks keep the memory stream busy longer
    private const long ParallelElements = 1L << 21; // ~8 MB of float32 rows before a second core helps

    private readonly float[] _f32;        // (count, stride) float32, zero-padded
    private readonly Half[]? _f16;        // (count, stride) when Float16
    private readonly sbyte[]? _i8;        // (count, stride8) when Int8
    private readonly float[]? _i8Scale;   // (count) when Int8
    private readonly float[] _invNorm;    // (count) 1/|x| (0 for zero vectors)
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);

    private ItemIndex(int count, int dimension, VectorPrecision precision, Similarity similarity)
    {
        Count = count;
        Dimension = dimension;
        Precision = precision;
        Similarity = similarity;
        Stride = ScoringKernels.FloatStride(dimension);
        Int8Stride = ScoringKernels.Int8Stride(dimension);
        _f32 = GC.AllocateArray<float>(checked(count * Stride), pinned: true);
        _invNorm = new float[count];
        if (precision == VectorPrecision.Float16) _f16 = GC.AllocateArray<Half>(count * Stride, pinned: true);
        if (precision == VectorPrecision.Int8)
        {
            if (dimension > 4096) throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "Int8 indexes support dimensions up to 4096.");
            _i8 = GC.AllocateArray<sbyte>(count * Int8Stride, pinned: true);
            _i8Scale = new float[count];
        }
    }

    /// <summary>Number of items.</summary>
    public int Count { get; }

    /// <summary>Length of every item vector.</summary>
    public int Dimension { get; }

    /// <summary>How vectors are scanned.</summary>
    public VectorPrecision Precision { get; }

    /// <summary>Dot product or cosine.</summary>
    public Similarity Similarity { get; }

    internal int Stride { get; }

    internal int Int8Stride { get; }

    /// <summary>Bytes of row storage streamed by one query (the compact rows for quantised indexes).</summary>
    public long ScanBytes => Precision switch
    {
        VectorPrecision.Float32 => (long)Count * Stride * 4,
        VectorPrecision.Float16 => (long)Count * Stride * 2,
        _ => (long)Count * Int8Stride,
    };

    /// <summary>Builds an index from <paramref name="vectors"/>, a row-major (count, dimension) matrix.</summary>
    /// <exception cref="ArgumentException">The matrix length is not count × dimension, or a value is NaN or infinite.</exception>
    public static ItemIndex Create(ReadOnlySpan<float> vectors, int count, int dimension,
        VectorPrecision precision = VectorPrecision.Float32, Similarity similarity = Similarity.DotProduct)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        if ((long)count * dimension != vectors.Length)
        {
            throw new ArgumentException($"The matrix has {vectors.Length} values; {count} items × {dimension} dimensions need {(long)count * dimension}.", nameof(vectors));
        }
        var index = new ItemIndex(count, dimension, precision, similarity);
        for (int i = 0; i < count; i++) index.WriteRow(i, vectors.Slice(i * dimension, dimension));
        return index;
    }

    /// <summary>The stored float32 vector of an item.</summary>
    public float[] GetVector(int itemIndex)
    {
        CheckItem(itemIndex);
        _lock.EnterReadLock();
        try
        {
            return _f32.AsSpan(itemIndex * Stride, Dimension).ToArray();
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Replaces one item's vector without rebuilding the index (see the remarks on concurrency).</summary>
    public void Update(int itemIndex, ReadOnlySpan<float> vector)
    {
        CheckItem(itemIndex);
        if (vector.Length != Dimension) throw new ArgumentException($"The vector has {vector.Length} values; the index has dimension {Dimension}.", nameof(vector));
        CheckFinite(vector, nameof(vector));
        _lock.EnterWriteLock();
        try
        {
            WriteRow(itemIndex, vector);
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    private void WriteRow(int i, ReadOnlySpan<float> v)
    {
        CheckFinite(v, "vectors", i);
        var row = _f32.AsSpan(i * Stride, Stride);
        row.Clear();
        v.CopyTo(row);
        float norm = TensorPrimitives.Norm(v);
        _invNorm[i] = norm > 0 ? 1f / norm : 0f;
        if (_f16 is not null)
        {
            // Halves top out at ±65504; clamp so the scan never sees ±∞ (the exact re-rank uses the float32 row).
            var h = _f16.AsSpan(i * Stride, Stride);
            for (int j = 0; j < Stride; j++) h[j] = (Half)Math.Clamp(row[j], -65504f, 65504f);
        }
        if (_i8 is not null) _i8Scale![i] = ScoringKernels.QuantizeRow(v, _i8.AsSpan(i * Int8Stride, Int8Stride));
    }

    private static void CheckFinite(ReadOnlySpan<float> v, string name, int row = -1)
    {
        for (int j = 0; j < v.Length; j++)
        {
            if (!float.IsFinite(v[j]))
            {
                throw new ArgumentException($"{(row >= 0 ? $"Item {row}" : "The vector")} has a non-finite value ({v[j]}) at position {j}.", name);
            }
        }
    }

    private void CheckItem(int itemIndex)
    {
        if ((uint)itemIndex >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(itemIndex), itemIndex, $"The index holds {Count} items.");
    }

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
        double logZ = lse.Value;
        for (int i = 0; i < n; i++)
        {
            destination[i] = new RankedItem(candIds[i], candScores[i], (float)Math.Exp(candScores[i] * (double)invT - logZ));
        }
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

    // ---- persistence ------------------------------------------------------------------------------------------

    private static ReadOnlySpan<byte> Magic => "HRITEMIX"u8;
    private const int FormatVersion = 1;

    /// <summary>Writes the index atomically (temporary file, then rename): a crash never leaves a torn index behind.</summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        _lock.EnterReadLock();
        try
        {
            AtomicFile.Write(path, WriteTo);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    private void WriteTo(Stream stream)
    {
        var crc = new Crc32();
        void Put(ReadOnlySpan<byte> bytes)
        {
            crc.Append(bytes);
            stream.Write(bytes);
        }
        Span<byte> header = stackalloc byte[8 + 5 * 4];
        Magic.CopyTo(header);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], FormatVersion);
        BinaryPrimitives.WriteInt32LittleEndian(header[12..], (int)Precision);
        BinaryPrimitives.WriteInt32LittleEndian(header[16..], (int)Similarity);
        BinaryPrimitives.WriteInt32LittleEndian(header[20..], Count);
        BinaryPrimitives.WriteInt32LittleEndian(header[24..], Dimension);
        Put(header);
        // The float32 rows (unpadded, little-endian); quantised forms are rebuilt deterministically on load.
        var row = new byte[Dimension * 4];
        for (int i = 0; i < Count; i++)
        {
            var src = _f32.AsSpan(i * Stride, Dimension);
            for (int j = 0; j < Dimension; j++) BinaryPrimitives.WriteSingleLittleEndian(row.AsSpan(j * 4), src[j]);
            Put(row);
        }
        Span<byte> tail = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(tail, crc.Value);
        stream.Write(tail);
    }

    /// <summary>Reads an index written by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not an index, is truncated, or fails its checksum; the message names the file.</exception>
    public static ItemIndex Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var crc = new Crc32();
        Span<byte> header = stackalloc byte[28];
        if (!ReadExactly(fs, header) || !header[..8].SequenceEqual(Magic))
        {
            throw new InvalidDataException($"{path}: not a HierRec item index (bad magic or too short).");
        }
        crc.Append(header);
        int version = BinaryPrimitives.ReadInt32LittleEndian(header[8..]);
        if (version != FormatVersion) throw new InvalidDataException($"{path}: index format version {version} is not supported (expected {FormatVersion}).");
        var precision = (VectorPrecision)BinaryPrimitives.ReadInt32LittleEndian(header[12..]);
        var similarity = (Similarity)BinaryPrimitives.ReadInt32LittleEndian(header[16..]);
        int count = BinaryPrimitives.ReadInt32LittleEndian(header[20..]);
        int dim = BinaryPrimitives.ReadInt32LittleEndian(header[24..]);
        if (!Enum.IsDefined(precision) || !Enum.IsDefined(similarity) || count < 0 || dim <= 0)
        {
            throw new InvalidDataException($"{path}: corrupt header (precision {(int)precision}, similarity {(int)similarity}, count {count}, dimension {dim}).");
        }
        long expected = 28L + (long)count * dim * 4 + 4;
        if (fs.Length != expected)
        {
            throw new InvalidDataException($"{path}: {fs.Length} bytes, but {count} items × {dim} dimensions need {expected} (truncated or corrupt).");
        }
        var index = new ItemIndex(count, dim, precision, similarity);
        var row = new byte[dim * 4];
        var values = new float[dim];
        for (int i = 0; i < count; i++)
        {
            ReadExactly(fs, row);
            crc.Append(row);
            for (int j = 0; j < dim; j++) values[j] = BinaryPrimitives.ReadSingleLittleEndian(row.AsSpan(j * 4));
            try
            {
                index.WriteRow(i, values);
            }
            catch (ArgumentException ex)
            {
                throw new InvalidDataException($"{path}: item {i} is corrupt ({ex.Message}).", ex);
            }
        }
        Span<byte> tail = stackalloc byte[4];
        ReadExactly(fs, tail);
        if (BinaryPrimitives.ReadUInt32LittleEndian(tail) != crc.Value)
        {
            throw new InvalidDataException($"{path}: checksum mismatch: the file is corrupt.");
        }
        return index;
    }

    /// <summary>Reads exactly buffer.Length bytes; false if the stream ends first.</summary>
    private static bool ReadExactly(Stream s, Span<byte> buffer) => s.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false) == buffer.Length;

    /// <summary>Releases the lock's resources.</summary>
    public void Dispose() => _lock.Dispose();
}

/// <summary>CRC-32 (IEEE 802.3), table-driven.</summary>
internal sealed class Crc32
{
    private static readonly uint[] Table = BuildTable();
    private uint _crc = 0xFFFFFFFFu;

    public uint Value => ~_crc;

    public void Append(ReadOnlySpan<byte> data)
    {
        uint c = _crc;
        foreach (byte b in data) c = Table[(c ^ b) & 0xFF] ^ (c >> 8);
        _crc = c;
    }

    private static uint[] BuildTable()
    {
        var t = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[i] = c;
        }
        return t;
    }
}

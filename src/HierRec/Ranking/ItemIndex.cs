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
/// <para>This file holds storage, construction and updates; ranking one query, ranking a batch and persistence have
/// files of their own.</para>
/// </remarks>
public sealed unsafe partial class ItemIndex : IDisposable
{
    private const int BlockRows = 1024; // scores of one block stay in L1; larger blocks keep the memory stream busy longer
    private const long ParallelElements = 1L << 21; // ~8 MB of float32 rows before a second core helps

    private readonly float[] _f32;        // (count, stride) float32, zero-padded
    private readonly Half[]? _f16;        // (count, stride) when Float16
    private readonly sbyte[]? _i8;        // (count, stride8) when Int8
    private readonly float[]? _i8Scale;   // (count) when Int8
    private readonly float[] _invNorm;    // (count) 1/|x| (0 for zero vectors)
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);

    /// <summary>Why count × dimension cannot be one index (its padded rows exceed one array), or null.</summary>
    internal static string? CapacityError(long count, int dimension)
    {
        long values = count * ScoringKernels.FloatStride(dimension);
        return values > Array.MaxLength
            ? $"{count} items × {dimension} dimensions need {values} padded float32 values; one index holds at most {Array.MaxLength} (split the catalogue or lower the dimension)."
            : null;
    }

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

    /// <summary>
    /// The largest vector length an index takes (16,384): a query's padded copy lives on the stack while it is ranked,
    /// and every size read from an index file is bounded by it before memory is committed.
    /// </summary>
    public const int MaxDimension = 16_384;

    /// <summary>
    /// The largest Euclidean norm of an item vector or a query (10¹⁵): with temperatures in [10⁻⁶, 10⁶] every score
    /// and every score / T stays a finite float32, so probabilities stay in [0, 1].
    /// </summary>
    public const double MaxNorm = 1e15;

    internal static double NormOf(ReadOnlySpan<float> v)
    {
        double sum = 0;
        foreach (float x in v) sum += (double)x * x;
        return Math.Sqrt(sum);
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
        ArgumentOutOfRangeException.ThrowIfGreaterThan(dimension, MaxDimension);
        if (CapacityError(count, dimension) is { } tooLarge) throw new ArgumentOutOfRangeException(nameof(count), count, tooLarge);
        if ((long)count * dimension != vectors.Length)
        {
            throw new ArgumentException($"The matrix has {vectors.Length} values; {count} items × {dimension} dimensions need {(long)count * dimension}.", nameof(vectors));
        }
        var index = new ItemIndex(count, dimension, precision, similarity);
        for (int i = 0; i < count; i++) index.WriteRow(i, vectors.Slice(i * dimension, dimension));
        return index;
    }

    /// <summary>Every stored float32 vector, row-major (Count × Dimension), unpadded.</summary>
    internal float[] CopyRows()
    {
        _lock.EnterReadLock();
        try
        {
            var rows = new float[(long)Count * Dimension];
            for (int i = 0; i < Count; i++) _f32.AsSpan(i * Stride, Dimension).CopyTo(rows.AsSpan(i * Dimension, Dimension));
            return rows;
        }
        finally
        {
            _lock.ExitReadLock();
        }
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
        double length = NormOf(v);
        if (length > MaxNorm) throw new ArgumentException($"Item {i} has norm {length:G3}; item vectors are limited to {MaxNorm:G1} so that scores stay finite.", "vectors");
        var row = _f32.AsSpan(i * Stride, Stride);
        row.Clear();
        v.CopyTo(row);
        _invNorm[i] = length > 0 ? (float)(1 / length) : 0f;
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

    /// <summary>Releases the lock's resources.</summary>
    public void Dispose() => _lock.Dispose();
}

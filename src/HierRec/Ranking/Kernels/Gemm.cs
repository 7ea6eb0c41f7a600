using System.Runtime.InteropServices;

namespace HierRec.Ranking.Kernels;

/// <summary>Entry point for matrix multiplication; validates arguments and dispatches to <see cref="Provider"/>.</summary>
public static class Gemm
{
    private static IGemmProvider s_provider = ManagedGemm.Instance;

    /// <summary>
    /// The provider every GEMM in the engine goes through; the managed kernel by default. Set it to a native BLAS
    /// (see <see cref="NativeBlasGemm.TryLoad"/>) to compare or to use vendor kernels.
    /// </summary>
    public static IGemmProvider Provider
    {
        get => s_provider;
        set => s_provider = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>
    /// <c>C = alpha · op(A) · op(B) + beta · C</c> with row-major storage and explicit leading dimensions.
    /// </summary>
    /// <exception cref="ArgumentException">A dimension, leading dimension or span length is inconsistent.</exception>
    public static void Multiply(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        Validate(transA, transB, m, n, k, a, lda, b, ldb, c, ldc);
        s_provider.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    /// <summary>Dense <c>C = op(A) · op(B)</c> with tight leading dimensions (overwrites C).</summary>
    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k,
        bool transA = false, bool transB = false)
        => Multiply(transA, transB, m, n, k, 1f, a, transA ? m : k, b, transB ? k : n, 0f, c, n);

    internal static void Validate(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        int aRows = transA ? k : m, aCols = transA ? m : k;
        int bRows = transB ? n : k, bCols = transB ? k : n;
        CheckMatrix(a.Length, aRows, aCols, lda, nameof(a), nameof(lda));
        CheckMatrix(b.Length, bRows, bCols, ldb, nameof(b), nameof(ldb));
        CheckMatrix(c.Length, m, n, ldc, nameof(c), nameof(ldc));
    }

    private static void CheckMatrix(int length, int rows, int cols, int ld, string name, string ldName)
    {
        if (ld < Math.Max(1, cols))
        {
            throw new ArgumentException($"Leading dimension {ldName}={ld} is smaller than the {cols} columns of {name}.", ldName);
        }
        long needed = rows == 0 || cols == 0 ? 0 : (long)(rows - 1) * ld + cols;
        if (length < needed)
        {
            throw new ArgumentException($"Matrix {name} ({rows}×{cols}, leading dimension {ld}) needs {needed} elements but its span has {length}.", name);
        }
    }
}

namespace HierRec.Ranking.Kernels;

/// <summary>
/// A single-precision matrix multiply: <c>C = alpha · op(A) · op(B) + beta · C</c>, all matrices row-major.
/// </summary>
/// <remarks>Implementations must be safe to call concurrently from several threads on disjoint outputs.</remarks>
public interface IGemmProvider
{
    /// <summary>A short name for benchmarks and logs.</summary>
    string Name { get; }

    /// <summary>
    /// Computes <c>C = alpha · op(A) · op(B) + beta · C</c>. op(A) is M×K: A is stored M×K (row stride <paramref name="lda"/>)
    /// or, transposed, K×M. op(B) is K×N: B is stored K×N or, transposed, N×K. C is M×N with row stride <paramref name="ldc"/>.
    /// Arguments have been validated by <c>Gemm.Multiply</c>.
    /// </summary>
    void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc);
}

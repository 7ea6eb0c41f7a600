using HierRec.Ranking.Kernels;

namespace HierRec.Tests.Ranking.Kernels;

[Trait("Category", "Kernels")]
public class GemmTests
{
    public static IEnumerable<object[]> Kernels() => MicroKernel.All.Select(k => new object[] { k.ToString()! });

    private static MicroKernel Kernel(string name) => MicroKernel.All.Single(k => k.ToString() == name);

    private static void Check(ManagedGemm gemm, bool ta, bool tb, int m, int n, int k, float alpha, float beta, int pad, ulong seed)
    {
        int lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
        int aRows = ta ? k : m, bRows = tb ? n : k;
        var a = TestData.Normal(Math.Max(0, aRows * lda), seed);
        var b = TestData.Normal(Math.Max(0, bRows * ldb), seed + 1);
        var c = TestData.Normal(Math.Max(0, m * ldc), seed + 2);
        var expected = Reference.Gemm(ta, tb, m, n, k, alpha, a, Math.Max(lda, 1), b, Math.Max(ldb, 1), beta, c, Math.Max(ldc, 1));
        gemm.Sgemm(ta, tb, m, n, k, alpha, a, Math.Max(lda, 1), b, Math.Max(ldb, 1), beta, c, Math.Max(ldc, 1));
        // Float32 sums of k products of unit normals: error grows like √k · ε.
        TestData.AssertClose(expected, c, 2e-6 * Math.Sqrt(k + 1) * 4, $"gemm {gemm.Name} ta={ta} tb={tb} m={m} n={n} k={k}");
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void EveryKernel_MatchesReference_ForAllTransposesAndEdgeSizes(string kernel)
    {
        var gemm = new ManagedGemm(1, Kernel(kernel));
        int[] sizes = [0, 1, 2, 5, 6, 7, 13, 16, 17, 31, 33, 64, 97];
        ulong seed = 1;
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
                foreach (int m in sizes)
                    foreach (int n in new[] { 1, 7, 17, 33, 97 })
                        Check(gemm, ta, tb, m, n, m % 3 == 0 ? 19 : 8, 1f, 0f, m % 2, seed++);
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void EveryKernel_MatchesReference_ForEveryLengthUpTo300(string kernel)
    {
        var gemm = new ManagedGemm(1, Kernel(kernel));
        for (int len = 0; len <= 300; len++)
        {
            Check(gemm, false, len % 2 == 1, 7, len, 5, 1f, 0f, 0, (ulong)len);   // sweep N
            Check(gemm, len % 3 == 1, false, 3, 9, len, 1f, 0f, 0, (ulong)len);   // sweep K
        }
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void EveryKernel_HandlesAlphaBetaAndLargeOddShapes(string kernel)
    {
        var gemm = new ManagedGemm(2, Kernel(kernel));
        Check(gemm, false, false, 301, 263, 517, 0.5f, 1f, 3, 11);   // crosses KC and MC block edges, parallel path
        Check(gemm, true, true, 257, 301, 300, -1.5f, 0.25f, 0, 12);
    }

    [Fact]
    public void BetaZero_IgnoresNaNInC()
    {
        var c = new float[4] { float.NaN, float.NaN, float.NaN, float.NaN };
        Gemm.Multiply(false, false, 2, 2, 1, 1f, new float[] { 1, 2 }, 1, new float[] { 3, 4 }, 2, 0f, c, 2);
        Assert.Equal(new float[] { 3, 4, 6, 8 }, c);
    }

    [Fact]
    public void ThreadCount_DoesNotChangeResults()
    {
        var a = TestData.Normal(300 * 400, 3);
        var b = TestData.Normal(400 * 500, 4);
        var c1 = new float[300 * 500];
        var c2 = new float[300 * 500];
        new ManagedGemm(1).Sgemm(false, false, 300, 500, 400, 1f, a, 400, b, 500, 0f, c1, 500);
        new ManagedGemm(2).Sgemm(false, false, 300, 500, 400, 1f, a, 400, b, 500, 0f, c2, 500);
        Assert.Equal(c1, c2);
    }

    [Fact]
    public void Multiply_ThrowsWhenASpanIsTooShort()
    {
        var ex = Assert.Throws<ArgumentException>(() => Gemm.Multiply(false, false, 4, 4, 4, 1f, new float[15], 4, new float[16], 4, 0f, new float[16], 4));
        Assert.Contains("Matrix a", ex.Message);
    }

    [Fact]
    public void Multiply_ThrowsWhenLeadingDimensionIsTooSmall()
    {
        var ex = Assert.Throws<ArgumentException>(() => Gemm.Multiply(false, false, 2, 3, 4, 1f, new float[8], 3, new float[12], 3, 0f, new float[6], 3));
        Assert.Contains("lda", ex.Message);
    }
}

namespace HierRec.Tests.Ranking.Kernels;

/// <summary>Plain double-precision references the ranker's SIMD kernels are checked against: one loop per formula.</summary>
public static class Reference
{
    public static double[] Gemm(bool ta, bool tb, int m, int n, int k, double alpha, float[] a, int lda, float[] b, int ldb, double beta, float[] c, int ldc)
    {
        var result = new double[c.Length];
        for (int i = 0; i < c.Length; i++) result[i] = c[i];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++)
                {
                    double av = ta ? a[p * lda + i] : a[i * lda + p];
                    double bv = tb ? b[j * ldb + p] : b[p * ldb + j];
                    s += av * bv;
                }
                result[i * ldc + j] = alpha * s + (beta == 0 ? 0 : beta * c[i * ldc + j]);
            }
        return result;
    }
}

public static class TestData
{
    public static float[] Normal(int n, ulong seed, float std = 1f)
    {
        var a = new float[n];
        new Rng(seed).FillNormal(a, 0, std);
        return a;
    }

    public static double[] ToDouble(ReadOnlySpan<float> x)
    {
        var d = new double[x.Length];
        for (int i = 0; i < x.Length; i++) d[i] = x[i];
        return d;
    }

    /// <summary>Asserts |actual − expected| ≤ tol · (1 + |expected|) element-wise, naming the first failing index.</summary>
    public static void AssertClose(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, double tol, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            if (double.IsNaN(e) || double.IsNaN(a) || Math.Abs(a - e) > tol * (1 + Math.Abs(e)))
            {
                Assert.Fail($"{what}: index {i} expected {e:R} got {a:R} (tol {tol})");
            }
        }
    }

    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double tol, string what)
        => AssertClose(ToDouble(expected), actual, tol, what);

    /// <summary>Asserts |actual − expected| ≤ tol element-wise (absolute), naming the first failing index.</summary>
    public static void AssertAbsClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double tol, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0;
        int at = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = Math.Abs((double)actual[i] - expected[i]);
            if (double.IsNaN(d)) d = double.PositiveInfinity;
            if (d > worst) { worst = d; at = i; }
        }
        Assert.True(worst <= tol, $"{what}: max abs error {worst:E3} at index {at} (expected {(at >= 0 ? expected[at] : 0)}, got {(at >= 0 ? actual[at] : 0)}), tol {tol}");
    }

    /// <summary>Lengths 0..300 plus a large odd length, as the kernel sweeps use.</summary>
    public static IEnumerable<int> SweepLengths()
    {
        for (int n = 0; n <= 300; n++) yield return n;
        yield return 10_007;
    }
}

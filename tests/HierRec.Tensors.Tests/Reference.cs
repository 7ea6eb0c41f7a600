namespace HierRec.Tensors.Tests;

/// <summary>
/// Plain, double-precision reference implementations that the SIMD kernels and the autograd are checked against.
/// Deliberately naive: one loop per formula.
/// </summary>
public static class Reference
{
    public static double Erf(double x)
    {
        // Taylor series near 0, continued fraction for erfc in the tails: both accurate to ~1e-14 here.
        double ax = Math.Abs(x);
        double r;
        if (ax < 2.5)
        {
            double sum = 0, term = ax;
            for (int n = 0; n < 200; n++)
            {
                double t = term / (2 * n + 1);
                sum += t;
                if (Math.Abs(t) < 1e-17 * Math.Abs(sum)) break;
                term *= -ax * ax / (n + 1);
            }
            r = 2 / Math.Sqrt(Math.PI) * sum;
        }
        else if (ax > 8) r = 1;
        else
        {
            double f = ax;
            for (int n = 60; n >= 1; n--) f = ax + n / 2.0 / f;
            r = 1 - Math.Exp(-ax * ax) / Math.Sqrt(Math.PI) / f;
        }
        return x < 0 ? -r : r;
    }

    public static double Gelu(double x) => 0.5 * x * (1 + Erf(x / Math.Sqrt(2)));

    public static double GeluDerivative(double x) => 0.5 * (1 + Erf(x / Math.Sqrt(2))) + x * Math.Exp(-0.5 * x * x) / Math.Sqrt(2 * Math.PI);

    public static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    /// <summary>C = alpha op(A) op(B) + beta C, row-major with leading dimensions.</summary>
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

    public static double[] Softmax(double[] x, int cols)
    {
        var y = new double[x.Length];
        for (int r = 0; r < x.Length / cols; r++)
        {
            double max = double.NegativeInfinity;
            for (int j = 0; j < cols; j++) max = Math.Max(max, x[r * cols + j]);
            if (double.IsNegativeInfinity(max)) continue;
            double s = 0;
            for (int j = 0; j < cols; j++) s += Math.Exp(x[r * cols + j] - max);
            for (int j = 0; j < cols; j++) y[r * cols + j] = Math.Exp(x[r * cols + j] - max) / s;
        }
        return y;
    }

    public static double[] LogSoftmax(double[] x, int cols)
    {
        var y = new double[x.Length];
        for (int r = 0; r < x.Length / cols; r++)
        {
            double max = double.NegativeInfinity;
            for (int j = 0; j < cols; j++) max = Math.Max(max, x[r * cols + j]);
            double s = 0;
            for (int j = 0; j < cols; j++) s += Math.Exp(x[r * cols + j] - max);
            for (int j = 0; j < cols; j++) y[r * cols + j] = x[r * cols + j] - max - Math.Log(s);
        }
        return y;
    }

    public static double[] LayerNorm(double[] x, double[] g, double[] b, double eps, int cols)
    {
        var y = new double[x.Length];
        for (int r = 0; r < x.Length / cols; r++)
        {
            double mu = 0, v = 0;
            for (int j = 0; j < cols; j++) mu += x[r * cols + j];
            mu /= cols;
            for (int j = 0; j < cols; j++) v += (x[r * cols + j] - mu) * (x[r * cols + j] - mu);
            v /= cols;
            double rs = 1 / Math.Sqrt(v + eps);
            for (int j = 0; j < cols; j++) y[r * cols + j] = (x[r * cols + j] - mu) * rs * g[j] + b[j];
        }
        return y;
    }

    /// <summary>Multi-head attention with heads side by side in C; mask (B, Tk) 1 = valid or null.</summary>
    public static double[] Attention(double[] q, double[] k, double[] v, double[]? mask, int batch, int tq, int tk, int heads, int d, double[]? dropScale = null)
    {
        int c = heads * d;
        var o = new double[batch * tq * c];
        double scale = 1 / Math.Sqrt(d);
        var s = new double[tk];
        for (int b = 0; b < batch; b++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < tq; i++)
                {
                    double max = double.NegativeInfinity;
                    for (int j = 0; j < tk; j++)
                    {
                        if (mask is not null && mask[b * tk + j] == 0) { s[j] = double.NegativeInfinity; continue; }
                        double dot = 0;
                        for (int x = 0; x < d; x++) dot += q[(b * tq + i) * c + h * d + x] * k[(b * tk + j) * c + h * d + x];
                        s[j] = dot * scale;
                        max = Math.Max(max, s[j]);
                    }
                    if (double.IsNegativeInfinity(max)) continue;
                    double sum = 0;
                    for (int j = 0; j < tk; j++) sum += s[j] = Math.Exp(s[j] - max);
                    for (int j = 0; j < tk; j++)
                    {
                        double w = s[j] / sum * (dropScale is null ? 1 : dropScale[((b * heads + h) * tq + i) * tk + j]);
                        for (int x = 0; x < d; x++)
                            o[(b * tq + i) * c + h * d + x] += w * v[(b * tk + j) * c + h * d + x];
                    }
                }
        return o;
    }
}

/// <summary>Seeded data and tolerance helpers.</summary>
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

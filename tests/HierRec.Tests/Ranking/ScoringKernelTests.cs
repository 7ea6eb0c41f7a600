using HierRec.Ranking;

namespace HierRec.Tests.Ranking;

[Trait("Category", "Kernels")]
public unsafe class ScoringKernelTests
{
    private static float[] Normal(int n, int seed)
    {
        var a = new float[n];
        new HierRec.Rng((ulong)seed).FillNormal(a, 0, 1);
        return a;
    }

    private static float[] Padded(float[] rows, int n, int d, int stride)
    {
        var p = new float[n * stride];
        for (int i = 0; i < n; i++) rows.AsSpan(i * d, d).CopyTo(p.AsSpan(i * stride));
        return p;
    }

    [Fact]
    public void DotF32_MatchesScalarReference_ForEveryDimensionUpTo300_AndOddRowCounts()
    {
        for (int d = 1; d <= 300; d++)
        {
            int n = 7 + d % 5, stride = ScoringKernels.FloatStride(d);
            var rows = Normal(n * d, d);
            var q = Normal(d, d + 1000);
            var items = Padded(rows, n, d, stride);
            var qp = new float[stride];
            q.CopyTo(qp, 0);
            var scores = new float[n];
            fixed (float* pq = qp, pi = items, ps = scores) ScoringKernels.DotF32(pq, pi, stride, n, ps);
            for (int r = 0; r < n; r++)
            {
                double expected = ScoringReference.Dot(q, rows.AsSpan(r * d, d));
                Assert.True(Math.Abs(expected - scores[r]) <= 1e-5 * Math.Sqrt(d) * 4, $"d={d} row={r}: {expected} vs {scores[r]}");
            }
        }
    }

    [Fact]
    public void DotF16_MatchesReferenceOnHalfRoundedValues()
    {
        foreach (int d in new[] { 1, 15, 16, 17, 64, 100, 300 })
        {
            int n = 37, stride = ScoringKernels.FloatStride(d);
            var rows = Normal(n * d, d);
            var half = new Half[n * stride];
            for (int i = 0; i < n; i++)
                for (int j = 0; j < d; j++) half[i * stride + j] = (Half)rows[i * d + j];
            var q = Normal(d, 5);
            var qp = new float[stride];
            q.CopyTo(qp, 0);
            var scores = new float[n];
            var scratch = new float[32 * stride];
            fixed (float* pq = qp, ps = scores, sc = scratch)
            fixed (Half* ph = half)
                ScoringKernels.DotF16(pq, ph, stride, n, ps, sc, 32);
            for (int r = 0; r < n; r++)
            {
                double expected = 0;
                for (int j = 0; j < d; j++) expected += q[j] * (double)(float)half[r * stride + j];
                Assert.True(Math.Abs(expected - scores[r]) <= 1e-5 * Math.Sqrt(d) * 4, $"d={d} row={r}");
            }
        }
    }

    [Fact]
    public void DotF16_ConvertsSubnormalAndLargeHalvesExactly()
    {
        int stride = 16;
        float[] values = [6e-8f, -6e-8f, 3e-5f, 1e-4f, -65504f, 65504f, 0.5f, -0f, 1f, 2f, 3.14159f, -2.5f, 1e-3f, 7f, -8f, 100f];
        var half = values.Select(v => (Half)v).ToArray();
        var q = Enumerable.Range(0, stride).Select(i => 1f + i).ToArray();
        float score;
        var scratch = new float[32 * stride];
        fixed (float* pq = q, sc = scratch)
        fixed (Half* ph = half)
            ScoringKernels.DotF16(pq, ph, stride, 1, &score, sc, 32);
        double expected = 0;
        for (int j = 0; j < stride; j++) expected += q[j] * (double)(float)half[j];
        Assert.True(Math.Abs(expected - score) <= 1e-6 * Math.Abs(expected), $"{expected} vs {score}");
    }

    [Fact]
    public void DotI8_SimdEqualsIntegerArithmetic_ForEveryDimensionUpTo300()
    {
        for (int d = 1; d <= 300; d++)
        {
            int n = 5, stride = ScoringKernels.Int8Stride(d);
            var rows = Normal(n * d, d);
            var q8 = new sbyte[n * stride];
            var scales = new float[n];
            for (int i = 0; i < n; i++) scales[i] = ScoringKernels.QuantizeRow(rows.AsSpan(i * d, d), q8.AsSpan(i * stride, stride));
            var q = Normal(d, d + 7);
            var q16 = new short[stride];
            float qs = ScoringKernels.QuantizeQuery(q, q16);
            var scores = new float[n];
            fixed (short* pq = q16)
            fixed (sbyte* pi = q8)
            fixed (float* psc = scales, ps = scores)
                ScoringKernels.DotI8(pq, pi, stride, n, psc, qs, ps);
            for (int r = 0; r < n; r++)
            {
                long acc = 0;
                for (int j = 0; j < stride; j++) acc += q16[j] * q8[r * stride + j];
                Assert.Equal(acc * scales[r] * qs, scores[r]);
                // And the quantised score approximates the exact one.
                double exact = ScoringReference.Dot(q, rows.AsSpan(r * d, d));
                Assert.True(Math.Abs(exact - scores[r]) < 0.05 * Math.Sqrt(d), $"d={d} row={r}: int8 {scores[r]} vs exact {exact}");
            }
        }
    }
}

using HierRec.Tensors.Kernels;

namespace HierRec.Tensors.Tests.Kernels;

[Trait("Category", "Kernels")]
public class ElementwiseKernelTests
{
    [Fact]
    public void Gelu_MatchesErfReference_ForEveryLength()
    {
        foreach (int n in TestData.SweepLengths())
        {
            var x = TestData.Normal(n, (ulong)n, 3f);
            var y = new float[n];
            Activations.Gelu(x, y);
            TestData.AssertClose(x.Select(v => Reference.Gelu(v)).ToArray(), y, 1e-6, $"gelu n={n}");
        }
    }

    [Fact]
    public void GeluBackward_MatchesReferenceDerivative_ForEveryLength()
    {
        foreach (int n in TestData.SweepLengths())
        {
            var x = TestData.Normal(n, (ulong)n + 7, 3f);
            var dy = TestData.Normal(n, (ulong)n + 8);
            var dx = TestData.Normal(n, (ulong)n + 9);
            var expected = Enumerable.Range(0, n).Select(i => dx[i] + dy[i] * Reference.GeluDerivative(x[i])).ToArray();
            Activations.GeluBackward(x, dy, dx);
            TestData.AssertClose(expected, dx, 2e-6, $"gelu' n={n}");
        }
    }

    [Fact]
    public void Gelu_HandlesExtremeValues()
    {
        float[] x = [-1e4f, -20f, -5f, 0f, 5f, 20f, 1e4f];
        var y = new float[x.Length];
        Activations.Gelu(x, y);
        TestData.AssertClose(x.Select(v => Reference.Gelu(v)).ToArray(), y, 1e-6, "gelu extremes");
    }

    [Fact]
    public void Gelu_ThrowsForTooShortDestination()
    {
        Assert.Throws<ArgumentException>(() => Activations.Gelu(new float[5], new float[4]));
    }

    [Fact]
    public void TanhSigmoidRelu_MatchReference_ForEveryLength()
    {
        foreach (int n in TestData.SweepLengths())
        {
            var x = TestData.Normal(n, (ulong)n, 4f);
            var y = new float[n];
            Activations.Tanh(x, y);
            TestData.AssertClose(x.Select(v => Math.Tanh(v)).ToArray(), y, 1e-6, $"tanh n={n}");
            Activations.Sigmoid(x, y);
            TestData.AssertClose(x.Select(v => Reference.Sigmoid(v)).ToArray(), y, 1e-6, $"sigmoid n={n}");
            Activations.Relu(x, y);
            TestData.AssertClose(x.Select(v => Math.Max(v, 0.0)).ToArray(), y, 0, $"relu n={n}");
        }
    }

    [Fact]
    public void Softmax_MatchesReference_ForEveryLength_EvenWithHugeScores()
    {
        foreach (int n in TestData.SweepLengths().Where(n => n > 0))
        {
            var x = TestData.Normal(n, (ulong)n, 1e4f);
            var y = new float[n];
            Softmax.Forward(x, y, n);
            TestData.AssertClose(Reference.Softmax(TestData.ToDouble(x), n), y, 1e-5, $"softmax n={n}");
            Assert.InRange(y.Sum(), 1 - 1e-4, 1 + 1e-4);
            Softmax.LogForward(x, y, n);
            var expected = Reference.LogSoftmax(TestData.ToDouble(x), n);
            for (int i = 0; i < n; i++) Assert.True(Math.Abs(expected[i] - y[i]) <= 1e-6 * (1 + Math.Abs(expected[i])) * 10, $"logsoftmax n={n} i={i}");
        }
    }

    [Fact]
    public void Softmax_OfFullyMaskedRow_IsZeroNotNaN()
    {
        var x = new float[] { float.NegativeInfinity, float.NegativeInfinity };
        var y = new float[2];
        Softmax.Forward(x, y, 2);
        Assert.Equal(new float[] { 0, 0 }, y);
    }

    [Fact]
    public void LayerNorm_MatchesReference_ForEveryLength()
    {
        foreach (int n in TestData.SweepLengths().Where(n => n > 0))
        {
            int rows = n > 1000 ? 1 : 3;
            var x = TestData.Normal(rows * n, (ulong)n, 5f);
            for (int i = 0; i < x.Length; i++) x[i] += 100f; // a large mean tests the two-pass variance
            var g = TestData.Normal(n, (ulong)n + 1);
            var b = TestData.Normal(n, (ulong)n + 2);
            var y = new float[x.Length];
            LayerNormKernel.Forward(x, g, b, 1e-5f, y, n, default, default);
            TestData.AssertClose(Reference.LayerNorm(TestData.ToDouble(x), TestData.ToDouble(g), TestData.ToDouble(b), 1e-5, n), y, 2e-5, $"layernorm n={n}");
        }
    }

    [Fact]
    public void Attention_MatchesReference_WithMaskAndOddSizes()
    {
        ulong seed = 1;
        foreach (var (batch, tq, tk, heads, d) in new[] { (1, 1, 1, 1, 1), (2, 5, 7, 3, 4), (3, 17, 17, 2, 13), (2, 64, 64, 4, 16), (1, 9, 300, 1, 7) })
        {
            int c = heads * d;
            var q = TestData.Normal(batch * tq * c, seed++);
            var k = TestData.Normal(batch * tk * c, seed++);
            var v = TestData.Normal(batch * tk * c, seed++);
            var mask = new float[batch * tk];
            for (int b = 0; b < batch; b++)
                for (int j = 0; j < tk; j++) mask[b * tk + j] = j < Math.Max(1, tk - 2 * b) ? 1 : 0;
            var o = new float[batch * tq * c];
            var p = new float[batch * heads * tq * tk];
            AttentionKernel.Forward(q, k, v, mask, o, p, batch, tq, tk, heads, d);
            var expected = Reference.Attention(TestData.ToDouble(q), TestData.ToDouble(k), TestData.ToDouble(v), TestData.ToDouble(mask), batch, tq, tk, heads, d);
            TestData.AssertClose(expected, o, 1e-5, $"attention {batch}x{tq}x{tk} h{heads} d{d}");
            // Masked keys receive exactly zero probability.
            for (int b = 0; b < batch; b++)
                for (int j = 0; j < tk; j++)
                    if (mask[b * tk + j] == 0)
                        for (int h = 0; h < heads; h++)
                            for (int i = 0; i < tq; i++) Assert.Equal(0f, p[((b * heads + h) * tq + i) * tk + j]);
        }
    }

    [Fact]
    public void Exp_MatchesDoubleReference_ForEveryLength_AndRange()
    {
        foreach (int n in TestData.SweepLengths())
        {
            var x = TestData.Normal(n, (ulong)n + 3, 30f);
            var y = new float[n];
            Exponential.Exp(x, y);
            for (int i = 0; i < n; i++)
            {
                double e = Math.Exp(x[i]);
                if (x[i] < -87.3) Assert.True(y[i] == 0f || Math.Abs(y[i] - e) <= 1e-38, $"n={n} x={x[i]}");
                else if (e > float.MaxValue) Assert.Equal(float.PositiveInfinity, y[i]);
                else Assert.True(Math.Abs(y[i] - e) <= 2e-7 * e, $"exp n={n} x={x[i]}: {y[i]} vs {e}");
            }
            double sum = Exponential.SumExp(x, 0.5f, -3f);
            double expected = x.Sum(v => Math.Exp(v * 0.5 - 3));   // |x|·0.5 − 3 stays inside float range here
            Assert.True(Math.Abs(sum - expected) <= 1e-6 * (expected + 1e-30), $"sumexp n={n}: {sum} vs {expected}");
        }
        var special = new[] { float.NegativeInfinity, -1000f, 0f, 1000f, float.PositiveInfinity, float.NaN, -0f, 1e-8f };
        var ys = new float[special.Length];
        Exponential.Exp(special, ys);
        Assert.Equal(new[] { 0f, 0f, 1f, float.PositiveInfinity, float.PositiveInfinity }, ys[..5]);
        Assert.True(float.IsNaN(ys[5]));
        Assert.Equal(1f, ys[6]);
    }

    [Fact]
    public void Attention_MatchesReference_ForEveryKeyLengthUpTo300()
    {
        for (int tk = 1; tk <= 300; tk++)
        {
            int tq = 2, heads = 2, d = 3, c = heads * d;
            var q = TestData.Normal(tq * c, (ulong)tk);
            var k = TestData.Normal(tk * c, (ulong)tk + 1);
            var v = TestData.Normal(tk * c, (ulong)tk + 2);
            var mask = Enumerable.Range(0, tk).Select(j => j % 7 == 6 ? 0f : 1f).ToArray();
            mask[0] = 1;
            var o = new float[tq * c];
            AttentionKernel.Forward(q, k, v, mask, o, default, 1, tq, tk, heads, d);
            var expected = Reference.Attention(TestData.ToDouble(q), TestData.ToDouble(k), TestData.ToDouble(v), TestData.ToDouble(mask), 1, tq, tk, heads, d);
            TestData.AssertClose(expected, o, 1e-5, $"attention tk={tk}");
        }
    }

    [Fact]
    public void BroadcastAddAndMul_MatchReference_ForEveryLength()
    {
        foreach (int n in TestData.SweepLengths())
        {
            var a = TestData.Normal(3 * n, (ulong)n);
            var b = TestData.Normal(n, (ulong)n + 1);
            var sum = Ops.Add(new Tensor(a, 3, n), new Tensor(b, n));
            var prod = Ops.Mul(new Tensor(a, 3, n), new Tensor(b, 1, n));
            var expectedSum = new double[3 * n];
            var expectedProd = new double[3 * n];
            for (int i = 0; i < 3 * n; i++)
            {
                expectedSum[i] = (double)a[i] + b[i % n];
                expectedProd[i] = (double)a[i] * b[i % n];
            }
            TestData.AssertClose(expectedSum, sum.Data, 1e-6, $"add n={n}");
            TestData.AssertClose(expectedProd, prod.Data, 1e-6, $"mul n={n}");
        }
    }

    [Fact]
    public void EmbeddingGather_ThrowsNamingTheBadId()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => EmbeddingKernel.Gather(new float[6], 2, new[] { 0, 3 }, new float[4]));
        Assert.Contains("Id 3 at position 1", ex.Message);
    }

    [Fact]
    public void EmbeddingScatterAdd_AccumulatesRepeatedIds()
    {
        var grad = new float[6];
        EmbeddingKernel.ScatterAdd(new float[] { 1, 2, 3, 4, 5, 6 }, new[] { 1, 1, 0 }, 2, grad);
        Assert.Equal(new float[] { 5, 6, 4, 6, 0, 0 }, grad);
    }
}

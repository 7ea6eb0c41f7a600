using static HierRec.Tensors.Tests.Autograd.GradCheck;

namespace HierRec.Tensors.Tests.Autograd;

public class GradientTests
{
    private static double[] Map(double[] x, Func<double, double> f) => x.Select(f).ToArray();

    /// <summary>Reference broadcast of a binary op over NumPy-style shapes.</summary>
    private static double[] Broadcast(double[] a, int[] sa, double[] b, int[] sb, Func<double, double, double> f)
    {
        int rank = Math.Max(sa.Length, sb.Length);
        int[] pa = Enumerable.Repeat(1, rank - sa.Length).Concat(sa).ToArray();
        int[] pb = Enumerable.Repeat(1, rank - sb.Length).Concat(sb).ToArray();
        int[] so = pa.Zip(pb, Math.Max).ToArray();
        int n = so.Aggregate(1, (x, y) => x * y);
        var y = new double[n];
        var idx = new int[rank];
        for (int i = 0; i < n; i++)
        {
            int r = i;
            for (int d = rank - 1; d >= 0; d--) { idx[d] = r % so[d]; r /= so[d]; }
            int ia = 0, ib = 0;
            for (int d = 0; d < rank; d++)
            {
                ia = ia * pa[d] + (pa[d] == 1 ? 0 : idx[d]);
                ib = ib * pb[d] + (pb[d] == 1 ? 0 : idx[d]);
            }
            y[i] = f(a[ia], b[ib]);
        }
        return y;
    }

    public static IEnumerable<object[]> BroadcastCases() =>
    [
        [new[] { 3, 4 }, new[] { 3, 4 }],
        [new[] { 2, 3, 4 }, new[] { 4 }],
        [new[] { 2, 1, 4 }, new[] { 3, 1 }],
        [new[] { 1 }, new[] { 2, 3 }],
        [new[] { 2, 3, 1 }, new[] { 2, 1, 5 }],
    ];

    [Theory]
    [MemberData(nameof(BroadcastCases))]
    public void AddSubMul_Broadcasting_MatchFiniteDifferences(int[] sa, int[] sb)
    {
        Run("add", t => t[0] + t[1], x => Broadcast(x[0], sa, x[1], sb, (a, b) => a + b), 1, new Input(sa), new Input(sb));
        Run("sub", t => t[0] - t[1], x => Broadcast(x[0], sa, x[1], sb, (a, b) => a - b), 2, new Input(sa), new Input(sb));
        Run("mul", t => t[0] * t[1], x => Broadcast(x[0], sa, x[1], sb, (a, b) => a * b), 3, new Input(sa), new Input(sb));
    }

    [Fact]
    public void ScaleAndAddScalar_MatchFiniteDifferences()
    {
        Run("scale", t => t[0] * 2.5f, x => Map(x[0], v => 2.5 * v), 4, new Input([3, 5]));
        Run("addscalar", t => Ops.AddScalar(t[0], -1.5f), x => Map(x[0], v => v - 1.5), 5, new Input([7]));
    }

    [Fact]
    public void Activations_MatchFiniteDifferences()
    {
        Run("gelu", t => Ops.Gelu(t[0]), x => Map(x[0], Reference.Gelu), 6, new Input([4, 9], Std: 2f));
        Run("relu", t => Ops.Relu(t[0]), x => Map(x[0], v => Math.Max(v, 0)), 7, new Input([4, 9]));
        Run("tanh", t => Ops.Tanh(t[0]), x => Map(x[0], Math.Tanh), 8, new Input([4, 9]));
        Run("sigmoid", t => Ops.Sigmoid(t[0]), x => Map(x[0], Reference.Sigmoid), 9, new Input([4, 9], Std: 2f));
    }

    [Fact]
    public void SoftmaxAndLogSoftmax_MatchFiniteDifferences()
    {
        Run("softmax", t => Ops.Softmax(t[0]), x => Reference.Softmax(x[0], 7), 10, new Input([3, 7], Std: 2f));
        Run("logsoftmax", t => Ops.LogSoftmax(t[0]), x => Reference.LogSoftmax(x[0], 7), 11, new Input([3, 7], Std: 2f));
    }

    [Fact]
    public void L2Normalize_MatchesFiniteDifferences()
    {
        Run("l2normalize", t => Ops.L2Normalize(t[0]), x =>
        {
            var y = new double[x[0].Length];
            for (int r = 0; r < y.Length / 5; r++)
            {
                double n = 0;
                for (int j = 0; j < 5; j++) n += x[0][r * 5 + j] * x[0][r * 5 + j];
                n = Math.Sqrt(n);
                for (int j = 0; j < 5; j++) y[r * 5 + j] = x[0][r * 5 + j] / n;
            }
            return y;
        }, 31, new Input([3, 4, 5], Std: 2f));
    }

    [Fact]
    public void LayerNorm_MatchesFiniteDifferences_ForInputGainAndBias()
    {
        Run("layernorm", t => Ops.LayerNorm(t[0], t[1], t[2], 1e-5f),
            x => Reference.LayerNorm(x[0], x[1], x[2], 1e-5, 6), 12, new Input([2, 3, 6], Std: 2f), new Input([6]), new Input([6]));
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void MatMul_MatchesFiniteDifferences_WithTransposesAndBatches(bool ta, bool tb)
    {
        int m = 3, k = 5, n = 4;
        int[] sa = ta ? [2, k, m] : [2, m, k];
        int[] sb = tb ? [2, n, k] : [2, k, n];
        Run($"bmm ta={ta} tb={tb}", t => Ops.MatMul(t[0], t[1], ta, tb), x =>
        {
            var y = new double[2 * m * n];
            for (int b = 0; b < 2; b++)
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j++)
                        for (int p = 0; p < k; p++)
                        {
                            double av = ta ? x[0][b * k * m + p * m + i] : x[0][b * m * k + i * k + p];
                            double bv = tb ? x[1][b * n * k + j * k + p] : x[1][b * k * n + p * n + j];
                            y[b * m * n + i * n + j] += av * bv;
                        }
            return y;
        }, 13, new Input(sa), new Input(sb));
    }

    [Fact]
    public void MatMul_WithSharedRightOperand_MatchesFiniteDifferences()
    {
        // Reference in double directly (the float Gemm reference would round the perturbed inputs).
        foreach (bool tb in new[] { false, true })
        {
            Run($"matmul shared tb={tb}", t => Ops.MatMul(t[0], t[1], false, tb), x =>
            {
                var y = new double[2 * 3 * 4];
                for (int r = 0; r < 6; r++)
                    for (int j = 0; j < 4; j++)
                        for (int p = 0; p < 5; p++) y[r * 4 + j] += x[0][r * 5 + p] * (tb ? x[1][j * 5 + p] : x[1][p * 4 + j]);
                return y;
            }, 14, new Input([2, 3, 5]), new Input(tb ? [4, 5] : [5, 4]));
        }
    }

    [Fact]
    public void Linear_MatchesFiniteDifferences()
    {
        Run("linear", t => Ops.Linear(t[0], t[1], t[2]), x =>
        {
            var y = new double[6 * 4];
            for (int r = 0; r < 6; r++)
                for (int o = 0; o < 4; o++)
                {
                    double s = x[2][o];
                    for (int i = 0; i < 5; i++) s += x[0][r * 5 + i] * x[1][o * 5 + i];
                    y[r * 4 + o] = s;
                }
            return y;
        }, 15, new Input([2, 3, 5]), new Input([4, 5]), new Input([4]));
    }

    [Fact]
    public void ShapeOps_MatchFiniteDifferences()
    {
        Run("reshape", t => Ops.Reshape(t[0], 4, -1) * t[1], x => Broadcast(x[0], [4, 3], x[1], [4, 3], (a, b) => a * b), 16, new Input([2, 6]), new Input([4, 3]));
        Run("slicerows", t => Ops.SliceRows(t[0], 1, 2), x => x[0].Skip(3).Take(6).ToArray(), 17, new Input([4, 3]));
        Run("transpose", t => Ops.TransposeLast2(t[0]), x =>
        {
            var y = new double[2 * 4 * 3];
            for (int b = 0; b < 2; b++)
                for (int i = 0; i < 3; i++)
                    for (int j = 0; j < 4; j++) y[b * 12 + j * 3 + i] = x[0][b * 12 + i * 4 + j];
            return y;
        }, 18, new Input([2, 3, 4]));
        Run("concat", t => Ops.Concat([t[0], t[1]], 1), x =>
        {
            var y = new List<double>();
            for (int r = 0; r < 2; r++) { y.AddRange(x[0].Skip(r * 6).Take(6)); y.AddRange(x[1].Skip(r * 3).Take(3)); }
            return y.ToArray();
        }, 19, new Input([2, 2, 3]), new Input([2, 1, 3]));
        Run("split", t => { var p = Ops.Split(t[0], -1, 1, 3); return Ops.Concat([p[1] * 2f, p[0]], -1); }, x =>
        {
            var y = new List<double>();
            for (int r = 0; r < 3; r++) { y.AddRange(x[0].Skip(r * 4 + 1).Take(3).Select(v => 2 * v)); y.Add(x[0][r * 4]); }
            return y.ToArray();
        }, 20, new Input([3, 4]));
    }

    [Fact]
    public void Reductions_MatchFiniteDifferences()
    {
        Run("sum", t => Ops.Sum(t[0]), x => [x[0].Sum()], 21, new Input([3, 4]));
        Run("mean", t => Ops.Mean(t[0]), x => [x[0].Average()], 22, new Input([3, 4]));
        Run("sum axis1", t => Ops.Sum(t[0], 1), x =>
        {
            var y = new double[2 * 4];
            for (int a = 0; a < 2; a++) for (int b = 0; b < 3; b++) for (int c = 0; c < 4; c++) y[a * 4 + c] += x[0][(a * 3 + b) * 4 + c];
            return y;
        }, 23, new Input([2, 3, 4]));
        Run("mean last keepdim", t => Ops.Mean(t[0], -1, keepDim: true), x =>
            Enumerable.Range(0, 6).Select(r => x[0].Skip(r * 4).Take(4).Average()).ToArray(), 24, new Input([2, 3, 4]));
    }

    [Fact]
    public void Attention_WithMask_MatchesFiniteDifferences_ForQueryKeyAndValue()
    {
        int b = 2, tq = 3, tk = 4, h = 2, d = 3, c = h * d;
        var mask = new float[] { 1, 1, 1, 0, 1, 1, 0, 0 };
        Run("attention", t => Ops.Attention(t[0], t[1], t[2], h, new Tensor(mask, b, tk)),
            x => Reference.Attention(x[0], x[1], x[2], TestData.ToDouble(mask), b, tq, tk, h, d), 25,
            new Input([b, tq, c]), new Input([b, tk, c]), new Input([b, tk, c]));
    }

    [Fact]
    public void Attention_WithDropoutOnProbabilities_MatchesFiniteDifferences()
    {
        int b = 2, tq = 3, tk = 4, h = 2, d = 3, c = h * d;
        var mask = new float[] { 1, 1, 1, 0, 1, 1, 1, 1 };
        // The op draws one uniform per probability, in (B, H, Tq, Tk) order; the reference replays the same stream.
        var rng = new Rng(99);
        var scale = new double[b * h * tq * tk];
        for (int i = 0; i < scale.Length; i++) scale[i] = rng.NextFloat() >= 0.3f ? 1 / 0.7 : 0;
        Assert.Contains(0.0, scale);
        Run("attention dropout", t => Ops.Attention(t[0], t[1], t[2], h, new Tensor(mask, b, tk), out _, false, 0.3f, new Rng(99)),
            x => Reference.Attention(x[0], x[1], x[2], TestData.ToDouble(mask), b, tq, tk, h, d, scale), 31,
            new Input([b, tq, c]), new Input([b, tk, c]), new Input([b, tk, c]));
    }

    [Fact]
    public void Embedding_MatchesFiniteDifferences_WithRepeatedIds()
    {
        int[] ids = [2, 0, 2, 3];
        Run("embedding", t => Ops.Embedding(t[0], ids, 2, 2), x => ids.SelectMany(i => x[0].Skip(i * 3).Take(3)).ToArray(), 26, new Input([5, 3]));
    }

    [Fact]
    public void CrossEntropy_MatchesFiniteDifferences_AndIgnoresIndex()
    {
        int[] targets = [1, -100, 4];
        Run("crossentropy", t => Ops.CrossEntropy(t[0], targets), x =>
        {
            var lp = Reference.LogSoftmax(x[0], 5);
            return [-(lp[0 * 5 + 1] + lp[2 * 5 + 4]) / 2];
        }, 27, new Input([3, 5], Std: 2f));
    }

    [Fact]
    public void Dropout_MatchesFiniteDifferences_WithItsMask()
    {
        Run("dropout", t => Ops.Dropout(t[0], 0.3f, new Rng(77), training: true), x =>
        {
            var rng = new Rng(77);
            return x[0].Select(v => rng.NextFloat() >= 0.3f ? v / 0.7f : 0.0).ToArray();
        }, 28, new Input([4, 5]));
    }

    [Fact]
    public void MseLoss_MatchesFiniteDifferences()
    {
        Run("mse", t => Ops.MseLoss(t[0], t[1]), x => [x[0].Zip(x[1], (a, b) => (a - b) * (a - b)).Average()], 29,
            new Input([3, 4]), new Input([3, 4], NeedsGrad: false));
    }
}

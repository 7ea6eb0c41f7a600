using HierRec.Scoring;
using HierRec.Tensors;

namespace HierRec.Tests.Scoring;

public sealed class ScorerTests
{
    private static Tensor T(float[] values, params int[] shape) => Tensor.FromArray(values, shape);

    [Fact]
    public void SoftmaxArticleExample_WithCorrectArithmetic()
    {
        // u = [0.1, 0.2, 0.3, 0.4] against three items: f = 0.21, 0.29, 0.24 and P = 0.3212, 0.3479, 0.3309, so the
        // second item ranks first (the article printed miscalculated numbers; these are the correct ones).
        var u = T([0.1f, 0.2f, 0.3f, 0.4f], 1, 4);
        var items = T([0.5f, 0.1f, 0.2f, 0.2f, 0.1f, 0.3f, 0.2f, 0.4f, 0.3f, 0.2f, 0.3f, 0.2f], 3, 4);
        var f = new DotScorer().ScoreMatrix(u, items).ToArray();
        Assert.Equal([0.21f, 0.29f, 0.24f], f.Select(v => MathF.Round(v, 4)));
        var p = new SoftmaxScorer().ScoreMatrix(u, items).ToArray();
        Assert.Equal(0.3212, p[0], 4);
        Assert.Equal(0.3479, p[1], 4);
        Assert.Equal(0.3309, p[2], 4);
        Assert.Equal(1, Array.IndexOf(p, p.Max()));
    }

    [Fact]
    public void FusionArticleExample_SigmaOfInnerProductsPlusBias()
    {
        // Two interest dimensions with inner products 0.5 and 0.2, fused by concatenation, bias 1: σ(0.5 + 0.2 + 1) = 0.8455.
        var user = T([1f, 0f, 0f, 1f], 1, 4);   // [dimension 1; dimension 2]
        var item = T([0.5f, 0f, 0f, 0.2f], 1, 4);
        var scorer = new SigmoidScorer(initialBias: 1f);
        Assert.Equal(ScoreKind.Probability, scorer.Kind);
        Assert.Equal(0.8455, scorer.ScorePairs(user, item).ToScalar(), 4);
        Assert.Equal(0.8455, scorer.ScoreMatrix(user, item).ToScalar(), 4);
        Assert.Equal(1.7, scorer.LogitPairs(user, item).ToScalar(), 5);
    }

    [Fact]
    public void Cosine_IsScaleInvariantBoundedAndTempered()
    {
        var rng = new Rng(3);
        var u = Tensor.RandomNormal(rng, 1f, 4, 8);
        var items = Tensor.RandomNormal(rng, 1f, 6, 8);
        var s = new CosineScorer().ScoreMatrix(u, items).ToArray();
        var scaled = new CosineScorer().ScoreMatrix(u * 7f, items * 0.01f).ToArray();
        for (int i = 0; i < s.Length; i++)
        {
            Assert.InRange(s[i], -1f - 1e-6f, 1f + 1e-6f);
            Assert.Equal(s[i], scaled[i], 1e-5f);
        }
        var hot = new CosineScorer(0.1f).ScoreMatrix(u, items).ToArray();
        for (int i = 0; i < s.Length; i++) Assert.Equal(s[i] * 10f, hot[i], 1e-4f);
        Assert.Equal(1f, new CosineScorer().ScorePairs(u, u * 3f).ToArray().Min(), 1e-5f);
    }

    [Fact]
    public void PairsEqualTheMatrixDiagonal_ForEveryScorer()
    {
        var rng = new Rng(4);
        var u = Tensor.RandomNormal(rng, 1f, 5, 6);
        var items = Tensor.RandomNormal(rng, 1f, 5, 6);
        IScorer[] scorers = [new DotScorer(), new CosineScorer(0.5f), new SigmoidScorer(0.3f), new SoftmaxScorer(2f)];
        foreach (var scorer in scorers)
        {
            var m = scorer.ScoreMatrix(u, items).ToArray();
            var p = scorer.ScorePairs(u, items).ToArray();
            Assert.Equal(5, p.Length);
            for (int i = 0; i < 5; i++) Assert.Equal(m[i * 5 + i], p[i], 1e-5f);
        }
    }

    [Fact]
    public void SigmoidBias_IsTrainable_AndShapesAreChecked()
    {
        var scorer = new SigmoidScorer();
        var u = Tensor.RandomNormal(new Rng(1), 1f, 3, 4);
        Ops.Sum(scorer.ScorePairs(u, u)).Backward();
        Assert.NotEqual(0f, scorer.Bias.Grad!.ToScalar());
        Assert.Single(scorer.NamedParameters());
        var ex = Assert.Throws<ArgumentException>(() => new DotScorer().ScoreMatrix(u, Tensor.Zeros(2, 5)));
        Assert.Contains("(3, 4)", ex.Message);
        Assert.Throws<ArgumentException>(() => new DotScorer().ScorePairs(u, Tensor.Zeros(2, 4)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CosineScorer(0f));
    }
}

using HierRec.Scoring;
using HierRec.Tests.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace HierRec.Tests.Scoring;

public sealed class ScorerTests
{
    [Fact]
    public void SoftmaxArticleExample_WithCorrectArithmetic()
    {
        // u = [0.1, 0.2, 0.3, 0.4] against three items: f = 0.21, 0.29, 0.24 and P = 0.3212, 0.3479, 0.3309, so the
        // second item ranks first (the article printed miscalculated numbers; these are the correct ones).
        using var u = T.Of([0.1f, 0.2f, 0.3f, 0.4f], 1, 4);
        using var items = T.Of([0.5f, 0.1f, 0.2f, 0.2f, 0.1f, 0.3f, 0.2f, 0.4f, 0.3f, 0.2f, 0.3f, 0.2f], 3, 4);
        var f = T.Values(new DotScorer().ScoreMatrix(u, items));
        Assert.Equal([0.21f, 0.29f, 0.24f], f.Select(v => MathF.Round(v, 4)));
        var p = T.Values(new SoftmaxScorer().ScoreMatrix(u, items));
        Assert.Equal(0.3212, p[0], 4);
        Assert.Equal(0.3479, p[1], 4);
        Assert.Equal(0.3309, p[2], 4);
        Assert.Equal(1, Array.IndexOf(p, p.Max()));
    }

    [Fact]
    public void FusionArticleExample_SigmaOfInnerProductsPlusBias()
    {
        // Two interest dimensions with inner products 0.5 and 0.2, fused by concatenation, bias 1: σ(0.5 + 0.2 + 1) = 0.8455.
        using var user = T.Of([1f, 0f, 0f, 1f], 1, 4);   // [dimension 1; dimension 2]
        using var item = T.Of([0.5f, 0f, 0f, 0.2f], 1, 4);
        using var scorer = new SigmoidScorer(initialBias: 1f);
        Assert.Equal(ScoreKind.Probability, scorer.Kind);
        Assert.Equal(0.8455, scorer.ScorePairs(user, item).item<float>(), 4);
        Assert.Equal(0.8455, scorer.ScoreMatrix(user, item).item<float>(), 4);
        Assert.Equal(1.7, scorer.PairLogits(user, item).item<float>(), 5);
        Assert.Equal(0.8455, scorer.Serving.Transform!(0.7f), 4); // the ranker's dot score, shown as σ(s + b)
    }

    [Fact]
    public void Cosine_IsScaleInvariantBoundedAndTempered()
    {
        using var u = T.Normal(3, 4, 8);
        using var items = T.Normal(4, 6, 8);
        var s = T.Values(new CosineScorer().ScoreMatrix(u, items));
        var scaled = T.Values(new CosineScorer().ScoreMatrix(u * 7f, items * 0.01f));
        for (int i = 0; i < s.Length; i++)
        {
            Assert.InRange(s[i], -1f - 1e-6f, 1f + 1e-6f);
            Assert.Equal(s[i], scaled[i], 1e-5f);
        }
        var hot = T.Values(new CosineScorer(0.1f).ScoreMatrix(u, items));
        for (int i = 0; i < s.Length; i++) Assert.Equal(s[i] * 10f, hot[i], 1e-4f);
        Assert.Equal(1f, T.Values(new CosineScorer().ScorePairs(u, u * 3f)).Min(), 1e-5f);
    }

    public static TheoryData<string> Names => ["dot", "cosine", "sigmoid", "softmax"];

    internal static IScorer Create(string name) => name switch
    {
        "dot" => new DotScorer(),
        "cosine" => new CosineScorer(0.5f),
        "sigmoid" => new SigmoidScorer(0.3f),
        _ => new SoftmaxScorer(2f),
    };

    [Theory]
    [MemberData(nameof(Names))]
    public void PairsEqualTheMatrixDiagonal_AndLogitsAgree(string name)
    {
        using var u = T.Normal(4, 5, 6);
        using var items = T.Normal(5, 5, 6);
        var scorer = Create(name);
        var m = T.Values(scorer.ScoreMatrix(u, items));
        var p = T.Values(scorer.ScorePairs(u, items));
        var logits = T.Values(scorer.Logits(u, items));
        var pairLogits = T.Values(scorer.PairLogits(u, items));
        Assert.Equal(5, p.Length);
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(m[i * 5 + i], p[i], 1e-5f);
            Assert.Equal(logits[i * 5 + i], pairLogits[i], 1e-5f);
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void ServingScore_RanksAsTheScorer(string name)
    {
        // What the ranker computes (dot or cosine, then the transform) orders items as the scorer's matrix does.
        using var u = T.Normal(6, 1, 8);
        using var items = T.Normal(7, 20, 8);
        var scorer = (IServableScorer)Create(name);
        var expected = T.Values(scorer.Logits(u, items));
        var q = T.Values(u);
        var rows = T.Values(items);
        var served = new float[20];
        for (int i = 0; i < 20; i++)
        {
            var row = rows.AsSpan(i * 8, 8);
            float dot = System.Numerics.Tensors.TensorPrimitives.Dot(q, row);
            float s = scorer.Serving.Similarity == HierRec.Ranking.Similarity.Cosine
                ? dot / (System.Numerics.Tensors.TensorPrimitives.Norm(q) * System.Numerics.Tensors.TensorPrimitives.Norm(row)) : dot;
            served[i] = s;
        }
        var a = Enumerable.Range(0, 20).OrderByDescending(i => expected[i]).ToArray();
        var b = Enumerable.Range(0, 20).OrderByDescending(i => served[i]).ToArray();
        Assert.Equal(a, b);
    }

    [Fact]
    public void SigmoidBias_IsTrainable_AndShapesAreChecked()
    {
        using var scorer = new SigmoidScorer();
        using var u = T.Normal(1, 3, 4);
        var bias = scorer.Bias;
        var grad = torch.autograd.grad([scorer.ScorePairs(u, u).sum()], [bias])[0];
        Assert.NotEqual(0f, grad.item<float>());
        Assert.Single(scorer.parameters());
        var ex = Assert.Throws<ArgumentException>(() => new DotScorer().ScoreMatrix(u, torch.zeros(2, 5)));
        Assert.Contains("(3, 4)", ex.Message);
        Assert.Throws<ArgumentException>(() => new DotScorer().ScorePairs(u, torch.zeros(2, 4)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CosineScorer(0f));
    }
}

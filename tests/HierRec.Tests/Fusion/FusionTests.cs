using HierRec.Fusion;
using HierRec.Tests.Modules;
using HierRec.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace HierRec.Tests.Fusion;

public sealed class FusionTests
{
    private static List<Tensor> Layers(int l, int b, int d, ulong seed) =>
        Enumerable.Range(0, l).Select(i => T.Normal(seed * 31 + (ulong)i, b, d)).ToList();

    public static TheoryData<string> Kinds => ["attention", "gated", "concat-mlp"];

    internal static nn.Module Create(string kind, int l, int d, ulong seed)
    {
        using var g = T.Gen(seed);
        return kind switch
        {
            "attention" => new AttentionFusion(l, d, g),
            "gated" => new GatedFusion(l, d, g),
            _ => new ConcatMlpFusion(l, d, g),
        };
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Fuse_ReturnsOneVectorPerUser_AndContributionsThatAreShares(string kind)
    {
        var fusion = (IFusion)Create(kind, 3, 8, 1);
        using var result = fusion.Fuse(Layers(3, 5, 8, 2));
        Assert.Equal(new long[] { 5, fusion.OutputDimension }, result.Fused.shape);
        Assert.Equal(new long[] { 5, 3 }, result.Contributions.shape);
        Assert.False(result.Contributions.requires_grad);
        var c = T.Values(result.Contributions);
        for (int r = 0; r < 5; r++)
        {
            var row = c.AsSpan(r * 3, 3).ToArray();
            Assert.All(row, v => Assert.InRange(v, 0f, 1f));
            Assert.Equal(1f, row.Sum(), 1e-5f);
        }
        Assert.Throws<ArgumentException>(() => fusion.Fuse(Layers(2, 5, 8, 2)));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void AZeroLayer_GetsNoContribution(string kind)
    {
        // A layer that is all zeros cannot contribute. For gated and ablation contributions its share must be zero; for
        // attention the shares are the weights themselves, so the fused vector must be exactly Σ_l α_l v_l.
        var fusion = (IFusion)Create(kind, 3, 8, 1);
        var layers = Layers(3, 4, 8, 5);
        layers[1] = torch.zeros(4, 8);
        using var result = fusion.Fuse(layers);
        var c = T.Values(result.Contributions);
        if (kind == "attention")
        {
            var fused = T.Values(result.Fused);
            var v = layers.Select(T.Values).ToArray();
            for (int r = 0; r < 4; r++)
                for (int j = 0; j < 8; j++)
                {
                    float expected = 0;
                    for (int l = 0; l < 3; l++) expected += c[r * 3 + l] * v[l][r * 8 + j];
                    Assert.Equal(expected, fused[r * 8 + j], 1e-5f);
                }
            return;
        }
        for (int r = 0; r < 4; r++) Assert.Equal(0f, c[r * 3 + 1], 1e-6f);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Training_LearnsToFollowTheInformativeLayer(string kind)
    {
        // The target is layer 2 itself; layers 0 and 1 are noise. After training, layer 2 must get the largest share.
        var module = Create(kind, 3, 6, 7);
        var fusion = (IFusion)module;
        using var optimizer = Optimizers.AdamW(module.named_parameters(), 2e-2, 0);
        for (int step = 0; step < 300; step++)
        {
            using var scope = torch.NewDisposeScope();
            var layers = Layers(3, 16, 6, 100 + (ulong)step);
            optimizer.zero_grad();
            var loss = nn.functional.mse_loss(fusion.Fuse(layers).Fused, layers[2]);
            loss.backward();
            optimizer.step();
        }
        using var result = fusion.Fuse(Layers(3, 64, 6, 99));
        var c = T.Values(result.Contributions);
        double[] mean = new double[3];
        for (int r = 0; r < 64; r++) for (int l = 0; l < 3; l++) mean[l] += c[r * 3 + l] / 64.0;
        Assert.True(mean[2] > mean[0] && mean[2] > mean[1] && mean[2] > 0.5, $"{kind}: mean contributions {string.Join(", ", mean.Select(m => m.ToString("F3")))}");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void GradientCheck_InDoublePrecision(string kind)
    {
        var module = Create(kind, 3, 4, 11);
        module.to(ScalarType.Float64);
        var fusion = (IFusion)module;
        var layers = Layers(3, 2, 4, 12).Select(t => t.to_type(ScalarType.Float64).requires_grad_(true)).ToList();
        using var w = T.Normal(13, 2, 4).to_type(ScalarType.Float64);
        var wrt = GradCheck.Parameters(module).Concat(layers.Select((t, i) => ($"layer{i}", t))).ToList();
        GradCheck.Check(() =>
        {
            using var r = fusion.Fuse(layers);
            return (r.Fused * w).sum();
        }, wrt);
    }
}

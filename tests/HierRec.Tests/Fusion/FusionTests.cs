using HierRec.Fusion;
using HierRec.Tensors;
using HierRec.Tensors.Optimizers;

namespace HierRec.Tests.Fusion;

public sealed class FusionTests
{
    private static List<Tensor> Layers(int l, int b, int d, ulong seed)
    {
        var rng = new Rng(seed);
        return Enumerable.Range(0, l).Select(_ => Tensor.RandomNormal(rng, 1f, b, d)).ToList();
    }

    public static TheoryData<string> Kinds => ["attention", "gated", "concat-mlp"];

    private static IFusion Create(string kind, int l, int d, Rng rng) => kind switch
    {
        "attention" => new AttentionFusion(l, d, rng),
        "gated" => new GatedFusion(l, d, rng),
        _ => new ConcatMlpFusion(l, d, rng),
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Fuse_ReturnsOneVectorPerUser_AndContributionsThatAreShares(string kind)
    {
        var fusion = Create(kind, 3, 8, new Rng(1));
        var fused = fusion.Fuse(Layers(3, 5, 8, 2), out var contributions);
        Assert.Equal(new[] { 5, fusion.OutputDimension }, fused.Shape.ToArray());
        Assert.Equal(new[] { 5, 3 }, contributions.Shape.ToArray());
        for (int r = 0; r < 5; r++)
        {
            var row = contributions.Data.Slice(r * 3, 3).ToArray();
            Assert.All(row, v => Assert.InRange(v, 0f, 1f));
            Assert.Equal(1f, row.Sum(), 1e-5f);
        }
        Assert.Throws<ArgumentException>(() => fusion.Fuse(Layers(2, 5, 8, 2), out _));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void AZeroLayer_GetsNoContribution(string kind)
    {
        // A layer that is all zeros cannot contribute. For gated and ablation contributions its share must be zero; for
        // attention the shares are the weights themselves, so the fused vector must be exactly Σ_l α_l v_l.
        var fusion = Create(kind, 3, 8, new Rng(1));
        var layers = Layers(3, 4, 8, 5);
        layers[1] = Tensor.Zeros(4, 8);
        var fused = fusion.Fuse(layers, out var contributions);
        if (kind == "attention")
        {
            for (int r = 0; r < 4; r++)
                for (int j = 0; j < 8; j++)
                {
                    float expected = 0;
                    for (int l = 0; l < 3; l++) expected += contributions[r, l] * layers[l][r, j];
                    Assert.Equal(expected, fused[r, j], 1e-5f);
                }
            return;
        }
        for (int r = 0; r < 4; r++) Assert.Equal(0f, contributions[r, 1], 1e-6f);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Training_LearnsToFollowTheInformativeLayer(string kind)
    {
        // The target is layer 2 itself; layers 0 and 1 are noise. After training, layer 2 must get the largest share.
        var rng = new Rng(7);
        var fusion = Create(kind, 3, 6, rng);
        var module = (HierRec.Tensors.Layers.Module)fusion;
        var optimizer = AdamW.Create(module.NamedParameters(), 2e-2f, 0f);
        for (int step = 0; step < 300; step++)
        {
            var layers = Layers(3, 16, 6, 100 + (ulong)step);
            optimizer.ZeroGrad();
            var loss = Ops.MseLoss(fusion.Fuse(layers, out _), layers[2].Detach());
            loss.Backward();
            optimizer.Step();
        }
        fusion.Fuse(Layers(3, 64, 6, 99), out var c);
        double[] mean = new double[3];
        for (int r = 0; r < 64; r++) for (int l = 0; l < 3; l++) mean[l] += c[r, l] / 64.0;
        Assert.True(mean[2] > mean[0] && mean[2] > mean[1] && mean[2] > 0.5, $"{kind}: mean contributions {string.Join(", ", mean.Select(m => m.ToString("F3")))}");
    }
}

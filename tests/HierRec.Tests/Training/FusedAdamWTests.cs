using HierRec.Tests.Modules;
using HierRec.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HierRec.Tests.Training;

public sealed class FusedAdamWTests
{
    private static (Linear A, Linear B) Pair(ulong seed)
    {
        using var g1 = T.Gen(seed);
        using var g2 = T.Gen(seed);
        return (HierRec.Modules.Layers.Linear(37, 19, g1), HierRec.Modules.Layers.Linear(37, 19, g2));
    }

    [Fact]
    public void MatchesTorchSharpsAdamW_StepForStep_WithDecayOnMatricesOnly()
    {
        var (a, b) = Pair(1);
        using var reference = Optimizers.AdamW(a.named_parameters(), 3e-2, 0.1);
        using var fused = new FusedAdamW(b.named_parameters().Select(p => (p.parameter, Optimizers.Decays(p.name, p.parameter) ? 0.1 : 0.0)), 3e-2);
        for (int step = 0; step < 25; step++)
        {
            using var scope = torch.NewDisposeScope();
            var x = T.Normal(100 + (ulong)step, 8, 37);
            double rate = 3e-2 * (1 - step / 30.0);
            reference.SetLearningRate(rate);
            fused.LearningRate = rate;
            reference.zero_grad();
            fused.ZeroGrad();
            a.forward(x).square().mean().backward();
            b.forward(x).square().mean().backward();
            reference.step();
            fused.Step();
        }
        foreach (var ((name, pa), (_, pb)) in a.named_parameters().Zip(b.named_parameters()))
        {
            var va = T.Values(pa);
            var vb = T.Values(pb);
            for (int i = 0; i < va.Length; i++) Assert.True(MathF.Abs(va[i] - vb[i]) <= 1e-5f, $"{name}[{i}]: TorchSharp {va[i]} vs fused {vb[i]}");
        }
        Assert.Equal(25, fused.StepCount);
    }

    [Fact]
    public void State_RoundTrips_AndRefusesOtherParameters()
    {
        var (a, b) = Pair(2);
        using var one = new FusedAdamW(a.named_parameters().Select(p => (p.parameter, 0.0)), 1e-2);
        a.forward(T.Normal(5, 4, 37)).sum().backward();
        one.Step();
        var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true)) one.Save(w);
        using var two = new FusedAdamW(b.named_parameters().Select(p => (p.parameter, 0.0)), 1e-2);
        buffer.Position = 0;
        using (var r = new BinaryReader(buffer, System.Text.Encoding.UTF8, leaveOpen: true)) two.Load(r, "state");
        Assert.Equal(1, two.StepCount);
        using var g = T.Gen(3);
        var other = HierRec.Modules.Layers.Linear(5, 5, g);
        using var three = new FusedAdamW(other.named_parameters().Select(p => (p.parameter, 0.0)), 1e-2);
        buffer.Position = 0;
        using var r2 = new BinaryReader(buffer);
        Assert.Throws<InvalidDataException>(() => three.Load(r2, "state"));
    }
}

using HierRec.Tensors.Optimizers;
using HierRec.Tensors.Tests.Layers;

namespace HierRec.Tensors.Tests.Optimizers;

public class OptimizerTests
{
    [Fact]
    public void AdamW_MatchesTorchOptimAdamW_OverThreeSteps()
    {
        var g = TransformerGoldenTests.LoadFixture().Tensors;
        var p = g["adamw.initial"].Clone();
        p.RequiresGrad = true;
        var opt = new AdamW([new ParameterGroup([p], 0.1f)], learningRate: 0.01f);
        for (int step = 0; step < 3; step++)
        {
            p.Grad = g[$"adamw.grad{step}"].Clone();
            opt.Step();
        }
        TestData.AssertAbsClose(g["adamw.final"].Data, p.Data, 1e-6, "adamw");
    }

    [Fact]
    public void AdamW_Create_ExcludesBiasesAndNormsFromDecay_AndSkipsFrozen()
    {
        var w = new Tensor(new float[] { 1f }, 1, 1) { RequiresGrad = true };
        var bias = new Tensor(new float[] { 1f }, 1) { RequiresGrad = true };
        var frozen = new Tensor(new float[] { 1f }, 1, 1);
        var opt = AdamW.Create([("w", w), ("b", bias), ("f", frozen)], learningRate: 0.1f, weightDecay: 0.5f);
        Assert.Equal(2, opt.StateCount);
        w.Grad = new Tensor(1, 1);      // zero gradient: only decay moves the weight
        bias.Grad = new Tensor(1);
        opt.Step();
        Assert.Equal(1f - 0.1f * 0.5f, w.Data[0], 6);
        Assert.Equal(1f, bias.Data[0]);
    }

    [Fact]
    public void Schedule_WarmsUpLinearlyThenDecaysToZero()
    {
        var s = new LinearWarmupDecaySchedule(1f, 4, 12);
        Assert.Equal(0.25f, s.RateAt(0));
        Assert.Equal(1f, s.RateAt(3));
        Assert.Equal(1f, s.RateAt(4));
        Assert.Equal(0.5f, s.RateAt(8));
        Assert.Equal(0f, s.RateAt(12));
    }

    [Fact]
    public void ClipGradNorm_ScalesToMaxNorm_AndReturnsTheOriginalNorm()
    {
        var a = new Tensor(new float[] { 3 }, 1) { Grad = new Tensor(new float[] { 3 }, 1) };
        var b = new Tensor(new float[] { 4 }, 1) { Grad = new Tensor(new float[] { 4 }, 1) };
        float norm = Optimizer.ClipGradNorm([a, b], 1f);
        Assert.Equal(5f, norm, 5);
        Assert.Equal(0.6f, a.Grad!.Data[0], 4);
        Assert.Equal(0.8f, b.Grad!.Data[0], 4);
    }

    [Fact]
    public void SgdWithMomentum_FollowsTheTorchRecurrence()
    {
        var w = new Tensor(new float[] { 1f }, 1) { RequiresGrad = true };
        var opt = new Sgd([w], learningRate: 0.1f, momentum: 0.9f);
        w.Grad = new Tensor(new float[] { 1f }, 1);
        opt.Step();                              // buf = 1, w = 0.9
        w.Grad = new Tensor(new float[] { 1f }, 1);
        opt.Step();                              // buf = 1.9, w = 0.71
        Assert.Equal(0.71f, w.Data[0], 5);
    }

    [Fact]
    public void AdamW_ContinuesExactly_FromItsSavedState()
    {
        static (Tensor W, AdamW Opt) Make()
        {
            var w = new Tensor(new float[] { 1f, -2f, 0.5f }, 3) { RequiresGrad = true };
            return (w, AdamW.Create([("w", w)], learningRate: 0.1f, weightDecay: 0.01f));
        }
        static void Step(Tensor w, AdamW opt, int k)
        {
            w.Grad = new Tensor(new float[] { 0.3f * k, -0.1f, 1f / k }, 3);
            opt.Step();
        }
        var (a, optA) = Make();
        for (int k = 1; k <= 5; k++) Step(a, optA, k);

        var (b, optB) = Make();
        for (int k = 1; k <= 2; k++) Step(b, optB, k);
        var saved = optB.StateTensors().ToDictionary(p => p.Key, p => p.Value);
        var weights = b.ToArray();
        var (c, optC) = Make();
        weights.CopyTo(c.Data);
        optC.LoadState(saved, optB.StepCount);
        for (int k = 3; k <= 5; k++) Step(c, optC, k);
        Assert.Equal(a.ToArray(), c.ToArray());
        Assert.Equal(["0.exp_avg", "0.exp_avg_sq"], saved.Keys.Order());

        saved.Remove("0.exp_avg_sq");
        saved["0.exp_avg_sq2"] = Tensor.Zeros(3);
        Assert.Contains("'0.exp_avg_sq' is missing", Assert.Throws<InvalidDataException>(() => optC.LoadState(saved, 2)).Message);
    }

    [Fact]
    public void Rng_State_ContinuesTheSameSequence()
    {
        var a = new Rng(42);
        a.NextNormal(); // leaves a spare normal pending
        var state = a.GetState();
        var expected = Enumerable.Range(0, 5).Select(_ => a.NextNormal()).Concat(Enumerable.Range(0, 5).Select(_ => (float)a.NextUInt())).ToArray();
        var b = new Rng(7);
        b.SetState(state);
        var actual = Enumerable.Range(0, 5).Select(_ => b.NextNormal()).Concat(Enumerable.Range(0, 5).Select(_ => (float)b.NextUInt())).ToArray();
        Assert.Equal(expected, actual);
        Assert.Throws<ArgumentException>(() => b.SetState([0, 0, 0, 0, 0, 0]));
        Assert.Throws<ArgumentException>(() => b.SetState([1, 2, 3]));
    }
}

using HierRec.Tensors.Autograd;

namespace HierRec.Tensors.Tests.Autograd;

public class AutogradContractTests
{
    [Fact]
    public void Backward_OnATensorWithoutHistory_Throws()
    {
        var t = new Tensor(new float[] { 1, 2 }, 2);
        var ex = Assert.Throws<InvalidOperationException>(() => t.Backward());
        Assert.Contains("no gradient history", ex.Message);
    }

    [Fact]
    public void Backward_Twice_WithoutRetainGraph_Throws_AndWithRetainGraph_Accumulates()
    {
        var w = new Tensor(new float[] { 3 }, 1) { RequiresGrad = true };
        var loss = Ops.Sum(w * w);
        loss.Backward(retainGraph: true);
        Assert.Equal(6f, w.Grad!.Data[0]);
        loss.Backward();
        Assert.Equal(12f, w.Grad!.Data[0]); // gradients accumulate
        var ex = Assert.Throws<InvalidOperationException>(() => loss.Backward());
        Assert.Contains("twice", ex.Message);
    }

    [Fact]
    public void Backward_WithoutGradient_OnNonScalar_Throws()
    {
        var w = new Tensor(new float[] { 1, 2 }, 2) { RequiresGrad = true };
        Assert.Throws<InvalidOperationException>(() => Ops.Gelu(w).Backward());
    }

    [Fact]
    public void NoGradScope_RecordsNothing_AndNests()
    {
        var w = new Tensor(new float[] { 1, 2 }, 2) { RequiresGrad = true };
        using (GradMode.NoGrad())
        {
            using (GradMode.NoGrad()) Assert.False(GradMode.IsEnabled);
            Assert.False(GradMode.IsEnabled);
            var y = Ops.Sum(Ops.Gelu(w));
            Assert.False(y.IsTracked);
            Assert.Throws<InvalidOperationException>(() => y.Backward());
        }
        Assert.True(GradMode.IsEnabled);
        Assert.True(Ops.Sum(w).IsTracked);
    }

    [Fact]
    public void SharedSubexpression_ReceivesGradientFromEveryConsumer()
    {
        var x = new Tensor(new float[] { 2 }, 1) { RequiresGrad = true };
        var h = x * x;                 // h = x²
        var y = Ops.Sum(h * h + h);    // y = x⁴ + x², dy/dx = 4x³ + 2x
        y.Backward();
        Assert.Equal(4 * 8 + 2 * 2, x.Grad!.Data[0]);
    }

    [Fact]
    public void FrozenParameters_GetNoGradient()
    {
        var w = new Tensor(new float[] { 1, 2 }, 2) { RequiresGrad = true };
        var frozen = new Tensor(new float[] { 3, 4 }, 2);
        Ops.Sum(w * frozen).Backward();
        Assert.Null(frozen.Grad);
        Assert.Equal(new float[] { 3, 4 }, w.Grad!.ToArray());
    }

    [Fact]
    public void ShapeErrors_PrintBothShapes()
    {
        var ex = Assert.Throws<ArgumentException>(() => Ops.Add(new Tensor(2, 3), new Tensor(4, 3)));
        Assert.Contains("(2, 3)", ex.Message);
        Assert.Contains("(4, 3)", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Ops.MatMul(new Tensor(2, 3), new Tensor(4, 5)));
        Assert.Contains("(2, 3)", ex.Message);
        Assert.Contains("(4, 5)", ex.Message);
    }

    [Fact]
    public void ReshapeAndSliceRows_AreViewsOverTheSameStorage()
    {
        var t = new Tensor(new float[] { 1, 2, 3, 4, 5, 6 }, 3, 2);
        var r = t.Reshape(2, 3);
        var s = t.SliceRows(1, 2);
        t.Data[2] = 30;
        Assert.Equal(30, r[0, 2]);
        Assert.Equal(30, s[0, 0]);
        Assert.Throws<ArgumentException>(() => t.Reshape(4, 2));
    }
}

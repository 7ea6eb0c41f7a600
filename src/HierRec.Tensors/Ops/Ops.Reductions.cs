using System.Numerics.Tensors;
using HierRec.Tensors.Autograd;

namespace HierRec.Tensors;

public static partial class Ops
{
    /// <summary>Sum of all elements, as a one-element tensor of shape (1).</summary>
    public static Tensor Sum(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        var y = new Tensor([TensorPrimitives.Sum(x.Data)], 1);
        if (GradMode.ShouldRecord(x))
        {
            y.GradFn = new LambdaNode("Sum", (o, g) =>
            {
                var dst = x.GradBuffer();
                TensorPrimitives.Add(dst, g[0], dst);
            }, x);
        }
        return y;
    }

    /// <summary>Mean of all elements, as a one-element tensor of shape (1).</summary>
    public static Tensor Mean(Tensor x) => Scale(Sum(x), x.Length == 0 ? float.NaN : 1f / x.Length);

    /// <summary>Sum over <paramref name="axis"/>; the axis is removed unless <paramref name="keepDim"/>.</summary>
    public static Tensor Sum(Tensor x, int axis, bool keepDim = false) => Reduce(x, axis, keepDim, mean: false);

    /// <summary>Mean over <paramref name="axis"/>; the axis is removed unless <paramref name="keepDim"/>.</summary>
    public static Tensor Mean(Tensor x, int axis, bool keepDim = false) => Reduce(x, axis, keepDim, mean: true);

    private static Tensor Reduce(Tensor x, int axis, bool keepDim, bool mean)
    {
        ArgumentNullException.ThrowIfNull(x);
        int ax = Tensor.NormalizeAxis(axis, x.Rank);
        int outer = 1, inner = 1, n = x.Shape[ax];
        for (int d = 0; d < ax; d++) outer *= x.Shape[d];
        for (int d = ax + 1; d < x.Rank; d++) inner *= x.Shape[d];
        var shape = new List<int>(x.ShapeArray);
        if (keepDim) shape[ax] = 1; else shape.RemoveAt(ax);
        var y = new Tensor(shape.ToArray());
        float scale = mean ? 1f / n : 1f;
        var xd = x.Data;
        var yd = y.Data;
        for (int o = 0; o < outer; o++)
        {
            var dst = yd.Slice(o * inner, inner);
            if (inner == 1)
            {
                dst[0] = TensorPrimitives.Sum(xd.Slice(o * n, n)) * scale;
                continue;
            }
            for (int i = 0; i < n; i++) TensorPrimitives.Add(dst, xd.Slice((o * n + i) * inner, inner), dst);
            if (mean) TensorPrimitives.Multiply(dst, scale, dst);
        }
        if (GradMode.ShouldRecord(x))
        {
            y.GradFn = new LambdaNode(mean ? "Mean" : "Sum", (t, g) =>
            {
                var dx = x.GradBuffer();
                for (int o = 0; o < outer; o++)
                {
                    var go = g.Slice(o * inner, inner);
                    for (int i = 0; i < n; i++)
                    {
                        var d = dx.Slice((o * n + i) * inner, inner);
                        TensorPrimitives.MultiplyAdd(go, scale, d, d);
                    }
                }
            }, x);
        }
        return y;
    }
}

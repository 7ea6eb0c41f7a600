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

    /// <summary>
    /// Each row of the last axis divided by its Euclidean norm, y = x / max(‖x‖, eps) (PyTorch's F.normalize).
    /// Backward: dx = (g − y (g·y)) / ‖x‖ where the norm exceeds eps, g / eps otherwise.
    /// </summary>
    public static Tensor L2Normalize(Tensor x, float eps = 1e-12f)
    {
        ArgumentNullException.ThrowIfNull(x);
        int cols = x.Rank == 0 ? 1 : x.Dim(-1);
        int rows = cols == 0 ? 0 : x.Length / cols;
        var y = new Tensor(x.ShapeArray.ToArray());
        var norms = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            var xr = x.Data.Slice(r * cols, cols);
            float n = MathF.Max(TensorPrimitives.Norm(xr), eps);
            norms[r] = n;
            TensorPrimitives.Multiply(xr, 1f / n, y.Data.Slice(r * cols, cols));
        }
        if (GradMode.ShouldRecord(x))
        {
            y.GradFn = new LambdaNode("L2Normalize", (o, g) =>
            {
                var dx = x.GradBuffer();
                var yd = o.Data;
                for (int r = 0; r < rows; r++)
                {
                    var gr = g.Slice(r * cols, cols);
                    var yr = yd.Slice(r * cols, cols);
                    var dr = dx.Slice(r * cols, cols);
                    float inv = 1f / norms[r];
                    bool clamped = TensorPrimitives.Norm(x.Data.Slice(r * cols, cols)) < eps;
                    float dot = clamped ? 0f : TensorPrimitives.Dot(gr, yr);
                    for (int j = 0; j < cols; j++) dr[j] += (gr[j] - yr[j] * dot) * inv;
                }
            }, x);
        }
        return y;
    }
}

using System.Numerics.Tensors;
using HierRec.Tensors.Autograd;

namespace HierRec.Tensors;

/// <summary>
/// Differentiable tensor operations. Each op computes its forward result and, when gradients are being recorded
/// (see <see cref="GradMode"/>) and an input is tracked, records a node whose backward accumulates into the inputs.
/// </summary>
public static partial class Ops
{
    private enum BinaryOp { Add, Sub, Mul }

    /// <summary>a + b with NumPy broadcasting.</summary>
    public static Tensor Add(Tensor a, Tensor b) => Binary(a, b, BinaryOp.Add);

    /// <summary>a − b with NumPy broadcasting.</summary>
    public static Tensor Sub(Tensor a, Tensor b) => Binary(a, b, BinaryOp.Sub);

    /// <summary>a ⊙ b with NumPy broadcasting.</summary>
    public static Tensor Mul(Tensor a, Tensor b) => Binary(a, b, BinaryOp.Mul);

    /// <summary>s · a.</summary>
    public static Tensor Scale(Tensor a, float s)
    {
        ArgumentNullException.ThrowIfNull(a);
        var y = new Tensor(a.ShapeArray.ToArray());
        TensorPrimitives.Multiply(a.Data, s, y.Data);
        if (GradMode.ShouldRecord(a))
        {
            y.GradFn = new LambdaNode("Scale", (o, g) =>
            {
                var dst = a.GradBuffer();
                TensorPrimitives.MultiplyAdd(g, s, dst, dst);
            }, a);
        }
        return y;
    }

    /// <summary>a + s.</summary>
    public static Tensor AddScalar(Tensor a, float s)
    {
        ArgumentNullException.ThrowIfNull(a);
        var y = new Tensor(a.ShapeArray.ToArray());
        TensorPrimitives.Add(a.Data, s, y.Data);
        if (GradMode.ShouldRecord(a)) y.GradFn = new LambdaNode("AddScalar", (o, g) => a.AccumulateGrad(g), a);
        return y;
    }

    private static Tensor Binary(Tensor a, Tensor b, BinaryOp op)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        int[] outShape = BroadcastShape(a.Shape, b.Shape, op.ToString());
        var y = new Tensor(outShape);
        BroadcastApply(a.Data, a.Shape, b.Data, b.Shape, y.Data, outShape, op);
        if (GradMode.ShouldRecord(a, b))
        {
            y.GradFn = new LambdaNode(op.ToString(), (o, g) =>
            {
                switch (op)
                {
                    case BinaryOp.Add:
                        if (a.IsTracked) ReduceToShape(g, outShape, a.GradBuffer(), a.Shape, 1f);
                        if (b.IsTracked) ReduceToShape(g, outShape, b.GradBuffer(), b.Shape, 1f);
                        break;
                    case BinaryOp.Sub:
                        if (a.IsTracked) ReduceToShape(g, outShape, a.GradBuffer(), a.Shape, 1f);
                        if (b.IsTracked) ReduceToShape(g, outShape, b.GradBuffer(), b.Shape, -1f);
                        break;
                    case BinaryOp.Mul:
                        var buffer = TensorMemory.Rent(g.Length, clear: false);
                        var tmp = buffer.AsSpan(0, g.Length);
                        if (a.IsTracked)
                        {
                            BroadcastApply(g, outShape, b.Data, b.Shape, tmp, outShape, BinaryOp.Mul);
                            ReduceToShape(tmp, outShape, a.GradBuffer(), a.Shape, 1f);
                        }
                        if (b.IsTracked)
                        {
                            BroadcastApply(g, outShape, a.Data, a.Shape, tmp, outShape, BinaryOp.Mul);
                            ReduceToShape(tmp, outShape, b.GradBuffer(), b.Shape, 1f);
                        }
                        TensorMemory.Return(buffer);
                        break;
                }
            }, a, b);
        }
        return y;
    }

    internal static int[] BroadcastShape(ReadOnlySpan<int> a, ReadOnlySpan<int> b, string opName)
    {
        int rank = Math.Max(a.Length, b.Length);
        var shape = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i - (rank - a.Length) >= 0 ? a[i - (rank - a.Length)] : 1;
            int db = i - (rank - b.Length) >= 0 ? b[i - (rank - b.Length)] : 1;
            if (da != db && da != 1 && db != 1)
            {
                throw new ArgumentException($"{opName}: shapes {Tensor.ShapeString(a)} and {Tensor.ShapeString(b)} cannot be broadcast together (dimension {i}: {da} vs {db}).");
            }
            shape[i] = da == 1 ? db : da;
        }
        return shape;
    }

    /// <summary>Strides of <paramref name="shape"/> aligned to the output shape, 0 on broadcast axes.</summary>
    private static int[] BroadcastStrides(ReadOnlySpan<int> shape, ReadOnlySpan<int> outShape)
    {
        int rank = outShape.Length;
        var strides = new int[rank];
        int s = 1;
        for (int i = rank - 1; i >= 0; i--)
        {
            int j = i - (rank - shape.Length);
            int d = j >= 0 ? shape[j] : 1;
            strides[i] = d == 1 && outShape[i] != 1 ? 0 : s;
            s *= d;
        }
        return strides;
    }

    private static void BroadcastApply(ReadOnlySpan<float> a, ReadOnlySpan<int> aShape, ReadOnlySpan<float> b, ReadOnlySpan<int> bShape,
        Span<float> y, int[] outShape, BinaryOp op)
    {
        if (y.Length == 0) return;
        if (aShape.SequenceEqual(bShape))
        {
            Apply(a, b, y, op);
            return;
        }
        int rank = outShape.Length;
        int inner = outShape[rank - 1];
        int[] sa = BroadcastStrides(aShape, outShape), sb = BroadcastStrides(bShape, outShape);
        int outer = y.Length / inner;
        var idx = new int[rank];
        for (int row = 0; row < outer; row++)
        {
            int offA = 0, offB = 0;
            for (int d = 0; d < rank - 1; d++) { offA += idx[d] * sa[d]; offB += idx[d] * sb[d]; }
            var yr = y.Slice(row * inner, inner);
            bool aVec = sa[rank - 1] != 0, bVec = sb[rank - 1] != 0;
            if (aVec && bVec) Apply(a.Slice(offA, inner), b.Slice(offB, inner), yr, op);
            else if (aVec) ApplyScalarRight(a.Slice(offA, inner), b[offB], yr, op);
            else if (bVec) ApplyScalarLeft(a[offA], b.Slice(offB, inner), yr, op);
            else yr.Fill(Apply(a[offA], b[offB], op));
            for (int d = rank - 2; d >= 0; d--)
            {
                if (++idx[d] < outShape[d]) break;
                idx[d] = 0;
            }
        }
    }

    private static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y, BinaryOp op)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(a, b, y); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, y); break;
            default: TensorPrimitives.Multiply(a, b, y); break;
        }
    }

    private static void ApplyScalarRight(ReadOnlySpan<float> a, float b, Span<float> y, BinaryOp op)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(a, b, y); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, y); break;
            default: TensorPrimitives.Multiply(a, b, y); break;
        }
    }

    private static void ApplyScalarLeft(float a, ReadOnlySpan<float> b, Span<float> y, BinaryOp op)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(b, a, y); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, y); break;
            default: TensorPrimitives.Multiply(b, a, y); break;
        }
    }

    private static float Apply(float a, float b, BinaryOp op) => op switch
    {
        BinaryOp.Add => a + b,
        BinaryOp.Sub => a - b,
        _ => a * b,
    };

    /// <summary>target += sign · (g summed over the axes along which target was broadcast to outShape).</summary>
    internal static void ReduceToShape(ReadOnlySpan<float> g, int[] outShape, Span<float> target, ReadOnlySpan<int> targetShape, float sign)
    {
        if (targetShape.SequenceEqual(outShape))
        {
            if (sign == 1f) TensorPrimitives.Add(target, g, target);
            else TensorPrimitives.MultiplyAdd(g, sign, target, target);
            return;
        }
        if (g.Length == 0) return;
        int rank = outShape.Length;
        int inner = outShape[rank - 1];
        int[] st = BroadcastStrides(targetShape, outShape);
        int outer = g.Length / inner;
        var idx = new int[rank];
        bool vec = st[rank - 1] != 0;
        for (int row = 0; row < outer; row++)
        {
            int off = 0;
            for (int d = 0; d < rank - 1; d++) off += idx[d] * st[d];
            var gr = g.Slice(row * inner, inner);
            if (vec)
            {
                var tr = target.Slice(off, inner);
                TensorPrimitives.MultiplyAdd(gr, sign, tr, tr);
            }
            else
            {
                target[off] += sign * TensorPrimitives.Sum(gr);
            }
            for (int d = rank - 2; d >= 0; d--)
            {
                if (++idx[d] < outShape[d]) break;
                idx[d] = 0;
            }
        }
    }
}

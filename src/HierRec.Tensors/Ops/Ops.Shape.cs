using HierRec.Tensors.Autograd;

namespace HierRec.Tensors;

public static partial class Ops
{
    /// <summary>A view with a new shape over the same elements (one dimension may be −1).</summary>
    public static Tensor Reshape(Tensor x, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(shape);
        var s = (int[])shape.Clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == -1)
            {
                if (infer >= 0) throw new ArgumentException($"Reshape {Tensor.ShapeString(shape)}: only one dimension may be -1.", nameof(shape));
                infer = i;
            }
            else if (s[i] < 0) throw new ArgumentException($"Reshape {Tensor.ShapeString(shape)}: negative dimension.", nameof(shape));
            else known *= s[i];
        }
        if (infer >= 0)
        {
            if (known == 0 || x.Length % known != 0)
                throw new ArgumentException($"Cannot reshape {Tensor.ShapeString(x.Shape)} to {Tensor.ShapeString(shape)}.", nameof(shape));
            s[infer] = (int)(x.Length / known);
        }
        if (Tensor.CheckedLength(s) != x.Length)
        {
            throw new ArgumentException($"Cannot reshape {Tensor.ShapeString(x.Shape)} ({x.Length} elements) to {Tensor.ShapeString(s)}.", nameof(shape));
        }
        var y = new Tensor(x.Storage, x.Offset, s);
        if (GradMode.ShouldRecord(x)) y.GradFn = new LambdaNode("Reshape", (o, g) => x.AccumulateGrad(g), x);
        return y;
    }

    /// <summary>Rows [start, start + count) of the outermost axis, as a view.</summary>
    public static Tensor SliceRows(Tensor x, int start, int count)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank == 0) throw new ArgumentException("SliceRows needs a tensor of rank ≥ 1.", nameof(x));
        if (start < 0 || count < 0 || start + count > x.Dim(0))
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"Rows [{start}, {start + count}) are outside the {x.Dim(0)} rows of {Tensor.ShapeString(x.Shape)}.");
        }
        int rowLen = x.Dim(0) == 0 ? 0 : x.Length / x.Dim(0);
        var shape = x.ShapeArray.ToArray();
        shape[0] = count;
        var y = new Tensor(x.Storage, x.Offset + start * rowLen, shape);
        if (GradMode.ShouldRecord(x))
        {
            y.GradFn = new LambdaNode("SliceRows", (o, g) =>
            {
                var dst = x.GradBuffer().Slice(start * rowLen, count * rowLen);
                System.Numerics.Tensors.TensorPrimitives.Add(dst, g, dst);
            }, x);
        }
        return y;
    }

    /// <summary>Concatenates tensors along <paramref name="axis"/>; all other dimensions must match.</summary>
    public static Tensor Concat(IReadOnlyList<Tensor> tensors, int axis)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Count == 0) throw new ArgumentException("Concat needs at least one tensor.", nameof(tensors));
        var first = tensors[0];
        int ax = Tensor.NormalizeAxis(axis, first.Rank);
        int total = 0;
        foreach (var t in tensors)
        {
            if (t.Rank != first.Rank) throw new ArgumentException($"Concat: ranks differ ({Tensor.ShapeString(first.Shape)} vs {Tensor.ShapeString(t.Shape)}).");
            for (int d = 0; d < first.Rank; d++)
            {
                if (d != ax && t.Shape[d] != first.Shape[d])
                    throw new ArgumentException($"Concat along axis {ax}: shapes {Tensor.ShapeString(first.Shape)} and {Tensor.ShapeString(t.Shape)} differ in dimension {d}.");
            }
            total += t.Shape[ax];
        }
        var shape = first.ShapeArray.ToArray();
        shape[ax] = total;
        var y = new Tensor(shape);
        int outer = 1, inner = 1;
        for (int d = 0; d < ax; d++) outer *= shape[d];
        for (int d = ax + 1; d < shape.Length; d++) inner *= shape[d];
        int outRow = total * inner, offset = 0;
        var widths = new int[tensors.Count];
        for (int i = 0; i < tensors.Count; i++)
        {
            int w = tensors[i].Shape[ax] * inner;
            widths[i] = w;
            var src = tensors[i].Data;
            var dst = y.Data;
            for (int o = 0; o < outer; o++) src.Slice(o * w, w).CopyTo(dst.Slice(o * outRow + offset, w));
            offset += w;
        }
        var inputs = tensors.ToArray();
        if (GradMode.ShouldRecord(inputs))
        {
            y.GradFn = new LambdaNode("Concat", (o, g) =>
            {
                int off = 0;
                for (int i = 0; i < inputs.Length; i++)
                {
                    int w = widths[i];
                    if (inputs[i].IsTracked)
                    {
                        var dst = inputs[i].GradBuffer();
                        for (int r = 0; r < outer; r++)
                        {
                            var d = dst.Slice(r * w, w);
                            System.Numerics.Tensors.TensorPrimitives.Add(d, g.Slice(r * outRow + off, w), d);
                        }
                    }
                    off += w;
                }
            }, inputs);
        }
        return y;
    }

    /// <summary>Splits along <paramref name="axis"/> into pieces of the given sizes (which must sum to the dimension).</summary>
    public static Tensor[] Split(Tensor x, int axis, params int[] sizes)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(sizes);
        int ax = Tensor.NormalizeAxis(axis, x.Rank);
        if (sizes.Sum() != x.Shape[ax] || sizes.Any(s => s < 0))
        {
            throw new ArgumentException($"Split sizes [{string.Join(", ", sizes)}] do not sum to dimension {ax} of {Tensor.ShapeString(x.Shape)}.", nameof(sizes));
        }
        int outer = 1, inner = 1;
        for (int d = 0; d < ax; d++) outer *= x.Shape[d];
        for (int d = ax + 1; d < x.Rank; d++) inner *= x.Shape[d];
        int rowLen = x.Shape[ax] * inner;
        var result = new Tensor[sizes.Length];
        int offset = 0;
        for (int i = 0; i < sizes.Length; i++)
        {
            var shape = x.ShapeArray.ToArray();
            shape[ax] = sizes[i];
            var y = new Tensor(shape);
            int w = sizes[i] * inner, off = offset;
            for (int o = 0; o < outer; o++) x.Data.Slice(o * rowLen + off, w).CopyTo(y.Data.Slice(o * w, w));
            if (GradMode.ShouldRecord(x))
            {
                y.GradFn = new LambdaNode("Split", (t, g) =>
                {
                    var dst = x.GradBuffer();
                    for (int o = 0; o < outer; o++)
                    {
                        var d = dst.Slice(o * rowLen + off, w);
                        System.Numerics.Tensors.TensorPrimitives.Add(d, g.Slice(o * w, w), d);
                    }
                }, x);
            }
            result[i] = y;
            offset += w;
        }
        return result;
    }

    /// <summary>Swaps the last two axes (a copy).</summary>
    public static Tensor TransposeLast2(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank < 2) throw new ArgumentException($"TransposeLast2 needs rank ≥ 2; got {Tensor.ShapeString(x.Shape)}.", nameof(x));
        int r = x.Dim(-2), c = x.Dim(-1), batch = r * c == 0 ? 0 : x.Length / (r * c);
        var shape = x.ShapeArray.ToArray();
        shape[^2] = c;
        shape[^1] = r;
        var y = new Tensor(shape);
        Transpose(x.Data, y.Data, batch, r, c, accumulate: false);
        if (GradMode.ShouldRecord(x))
        {
            y.GradFn = new LambdaNode("TransposeLast2", (o, g) => Transpose(g, x.GradBuffer(), batch, c, r, accumulate: true), x);
        }
        return y;
    }

    private static void Transpose(ReadOnlySpan<float> src, Span<float> dst, int batch, int rows, int cols, bool accumulate)
    {
        const int Block = 32; // cache-blocked so both sides are touched in 32×32 tiles
        for (int b = 0; b < batch; b++)
        {
            var s = src.Slice(b * rows * cols, rows * cols);
            var d = dst.Slice(b * rows * cols, rows * cols);
            for (int i0 = 0; i0 < rows; i0 += Block)
                for (int j0 = 0; j0 < cols; j0 += Block)
                {
                    int i1 = Math.Min(rows, i0 + Block), j1 = Math.Min(cols, j0 + Block);
                    for (int i = i0; i < i1; i++)
                        for (int j = j0; j < j1; j++)
                        {
                            if (accumulate) d[j * rows + i] += s[i * cols + j];
                            else d[j * rows + i] = s[i * cols + j];
                        }
                }
        }
    }
}

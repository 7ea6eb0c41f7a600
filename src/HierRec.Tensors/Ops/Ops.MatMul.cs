using System.Numerics.Tensors;
using HierRec.Tensors.Autograd;
using HierRec.Tensors.Kernels;

namespace HierRec.Tensors;

public static partial class Ops
{
    /// <summary>
    /// Matrix product over the last two axes: a (…, M, K) · b (…, K, N) → (…, M, N), with optional transposes of
    /// either operand's last two axes. b may be 2-D and is then shared by every batch entry; otherwise the batch
    /// dimensions must be equal.
    /// </summary>
    public static Tensor MatMul(Tensor a, Tensor b, bool transposeA = false, bool transposeB = false)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Rank < 2 || b.Rank < 2)
        {
            throw new ArgumentException($"MatMul needs operands of rank ≥ 2; got {Tensor.ShapeString(a.Shape)} and {Tensor.ShapeString(b.Shape)}.");
        }
        int m = transposeA ? a.Dim(-1) : a.Dim(-2), ka = transposeA ? a.Dim(-2) : a.Dim(-1);
        int kb = transposeB ? b.Dim(-1) : b.Dim(-2), n = transposeB ? b.Dim(-2) : b.Dim(-1);
        if (ka != kb)
        {
            throw new ArgumentException($"MatMul inner dimensions differ: {Tensor.ShapeString(a.Shape)}{(transposeA ? "ᵀ" : "")} · {Tensor.ShapeString(b.Shape)}{(transposeB ? "ᵀ" : "")} ({ka} vs {kb}).");
        }
        int k = ka;
        int batch = a.Length / Math.Max(1, a.Dim(-1) * a.Dim(-2));
        bool sharedB = b.Rank == 2;
        if (!sharedB)
        {
            if (!a.Shape[..^2].SequenceEqual(b.Shape[..^2]))
            {
                throw new ArgumentException($"MatMul batch dimensions differ: {Tensor.ShapeString(a.Shape)} vs {Tensor.ShapeString(b.Shape)}.");
            }
        }
        var outShape = a.ShapeArray.ToArray();
        outShape[^2] = m;
        outShape[^1] = n;
        var y = new Tensor(outShape);
        int lda = a.Dim(-1), ldb = b.Dim(-1);
        if (sharedB && !transposeA)
        {
            // Fold the batch into M: one large GEMM instead of many small ones.
            Gemm.Multiply(false, transposeB, batch * m, n, k, 1f, a.Data, lda, b.Data, ldb, 0f, y.Data, n);
        }
        else
        {
            int aStride = m * k, bStride = sharedB ? 0 : k * n;
            for (int i = 0; i < batch; i++)
            {
                Gemm.Multiply(transposeA, transposeB, m, n, k, 1f, a.Data.Slice(i * aStride, aStride), lda,
                    b.Data.Slice(i * bStride, k * n), ldb, 0f, y.Data.Slice(i * m * n, m * n), n);
            }
        }
        if (GradMode.ShouldRecord(a, b))
        {
            y.GradFn = new LambdaNode("MatMul", (o, g) =>
            {
                int aStride = m * k, bStride = sharedB ? 0 : k * n;
                if (sharedB && !transposeA)
                {
                    int rows = batch * m;
                    if (a.IsTracked)
                    {
                        // dA (rows×K) += dC · op(B)ᵀ
                        Gemm.Multiply(false, !transposeB, rows, k, n, 1f, g, n, b.Data, ldb, 1f, a.GradBuffer(), lda);
                    }
                    if (b.IsTracked)
                    {
                        if (!transposeB) Gemm.Multiply(true, false, k, n, rows, 1f, a.Data, lda, g, n, 1f, b.GradBuffer(), ldb);
                        else Gemm.Multiply(true, false, n, k, rows, 1f, g, n, a.Data, lda, 1f, b.GradBuffer(), ldb);
                    }
                    return;
                }
                for (int i = 0; i < batch; i++)
                {
                    var gi = g.Slice(i * m * n, m * n);
                    var ai = a.Data.Slice(i * aStride, aStride);
                    var bi = b.Data.Slice(i * bStride, k * n);
                    if (a.IsTracked)
                    {
                        var da = a.GradBuffer().Slice(i * aStride, aStride);
                        if (!transposeA) Gemm.Multiply(false, !transposeB, m, k, n, 1f, gi, n, bi, ldb, 1f, da, lda);
                        else Gemm.Multiply(transposeB, true, k, m, n, 1f, bi, ldb, gi, n, 1f, da, lda);
                    }
                    if (b.IsTracked)
                    {
                        var db = b.GradBuffer().Slice(i * bStride, k * n);
                        if (!transposeB) Gemm.Multiply(!transposeA, false, k, n, m, 1f, ai, lda, gi, n, 1f, db, ldb);
                        else Gemm.Multiply(true, transposeA, n, k, m, 1f, gi, n, ai, lda, 1f, db, ldb);
                    }
                }
            }, a, b);
        }
        return y;
    }

    /// <summary>
    /// y = x · Wᵀ + b over the last axis: x (…, in), weight (out, in) as in PyTorch and Hugging Face, bias (out) or null.
    /// </summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 2 || x.Rank < 1 || x.Dim(-1) != weight.Dim(1))
        {
            throw new ArgumentException($"Linear: input {Tensor.ShapeString(x.Shape)} does not match weight {Tensor.ShapeString(weight.Shape)} (out, in).");
        }
        int inF = weight.Dim(1), outF = weight.Dim(0);
        if (bias is not null && (bias.Rank != 1 || bias.Length != outF))
        {
            throw new ArgumentException($"Linear: bias {Tensor.ShapeString(bias.Shape)} does not match weight {Tensor.ShapeString(weight.Shape)}.");
        }
        int rows = x.Length / Math.Max(inF, 1);
        var outShape = x.ShapeArray.ToArray();
        outShape[^1] = outF;
        var y = new Tensor(outShape);
        var yd = y.Data;
        if (bias is not null)
        {
            var bd = bias.Data;
            for (int r = 0; r < rows; r++) bd.CopyTo(yd.Slice(r * outF, outF));
        }
        Gemm.Multiply(false, true, rows, outF, inF, 1f, x.Data, inF, weight.Data, inF, bias is null ? 0f : 1f, yd, outF);
        if (GradMode.ShouldRecord(bias is null ? [x, weight] : [x, weight, bias]))
        {
            Tensor[] inputs = bias is null ? [x, weight] : [x, weight, bias];
            y.GradFn = new LambdaNode("Linear", (o, g) =>
            {
                if (x.IsTracked) Gemm.Multiply(false, false, rows, inF, outF, 1f, g, outF, weight.Data, inF, 1f, x.GradBuffer(), inF);
                if (weight.IsTracked) Gemm.Multiply(true, false, outF, inF, rows, 1f, g, outF, x.Data, inF, 1f, weight.GradBuffer(), inF);
                if (bias is not null && bias.IsTracked)
                {
                    var db = bias.GradBuffer();
                    for (int r = 0; r < rows; r++) TensorPrimitives.Add(db, g.Slice(r * outF, outF), db);
                }
            }, inputs);
        }
        return y;
    }
}

using System.Numerics.Tensors;
using HierRec.Tensors.Autograd;
using HierRec.Tensors.Kernels;

namespace HierRec.Tensors;

public static partial class Ops
{
    /// <summary>Layer normalisation over the last axis with learned gain γ and bias β (both of the last axis's size).</summary>
    public static Tensor LayerNorm(Tensor x, Tensor gamma, Tensor beta, float eps)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(gamma);
        ArgumentNullException.ThrowIfNull(beta);
        int cols = x.Dim(-1);
        if (gamma.Length != cols || beta.Length != cols)
        {
            throw new ArgumentException($"LayerNorm: input {Tensor.ShapeString(x.Shape)} needs γ and β of length {cols}; got {Tensor.ShapeString(gamma.Shape)} and {Tensor.ShapeString(beta.Shape)}.");
        }
        int rows = x.Length / cols;
        var y = new Tensor(x.ShapeArray.ToArray());
        bool record = GradMode.ShouldRecord([x, gamma, beta]);
        float[] mean = record ? new float[rows] : [], rstd = record ? new float[rows] : [];
        LayerNormKernel.Forward(x.Data, gamma.Data, beta.Data, eps, y.Data, cols, mean, rstd);
        if (record)
        {
            y.GradFn = new LambdaNode("LayerNorm", (o, g) => LayerNormKernel.Backward(x.Data, gamma.Data, mean, rstd, g,
                x.IsTracked ? x.GradBuffer() : default, gamma.IsTracked ? gamma.GradBuffer() : default,
                beta.IsTracked ? beta.GradBuffer() : default, cols), x, gamma, beta);
        }
        return y;
    }

    /// <summary>
    /// Multi-head scaled dot-product attention. q (B, Tq, C), k and v (B, Tk, C) with C = heads · D, heads side by side
    /// in C; <paramref name="keyMask"/> (B, Tk) with 1 for valid keys and 0 for padding, or null. Returns (B, Tq, C).
    /// When the probabilities are requested (the overload with an out parameter), the (B, heads, Tq, Tk) attention weights are returned too.
    /// </summary>
    public static Tensor Attention(Tensor q, Tensor k, Tensor v, int heads, Tensor? keyMask = null) => Attention(q, k, v, heads, keyMask, out _, keepProbabilities: false);

    /// <inheritdoc cref="Attention(Tensor, Tensor, Tensor, int, Tensor?)"/>
    public static Tensor Attention(Tensor q, Tensor k, Tensor v, int heads, Tensor? keyMask, out Tensor? probabilities, bool keepProbabilities = true)
        => Attention(q, k, v, heads, keyMask, out probabilities, keepProbabilities, 0f, null);

    /// <summary>
    /// As above, with inverted dropout of probability <paramref name="dropout"/> on the attention weights (drawn from
    /// <paramref name="rng"/>); the returned probabilities are those before dropout.
    /// </summary>
    public static Tensor Attention(Tensor q, Tensor k, Tensor v, int heads, Tensor? keyMask, out Tensor? probabilities, bool keepProbabilities, float dropout, Rng? rng)
    {
        if (dropout < 0f || dropout >= 1f) throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "Dropout probability must be in [0, 1).");
        if (dropout > 0f) ArgumentNullException.ThrowIfNull(rng);
        ArgumentNullException.ThrowIfNull(q);
        ArgumentNullException.ThrowIfNull(k);
        ArgumentNullException.ThrowIfNull(v);
        if (q.Rank != 3 || k.Rank != 3 || v.Rank != 3)
        {
            throw new ArgumentException($"Attention needs (B, T, C) tensors; got q {Tensor.ShapeString(q.Shape)}, k {Tensor.ShapeString(k.Shape)}, v {Tensor.ShapeString(v.Shape)}.");
        }
        int b = q.Dim(0), tq = q.Dim(1), c = q.Dim(2), tk = k.Dim(1);
        if (k.Dim(0) != b || v.Dim(0) != b || k.Dim(2) != c || v.Dim(2) != c || v.Dim(1) != tk)
        {
            throw new ArgumentException($"Attention shapes disagree: q {Tensor.ShapeString(q.Shape)}, k {Tensor.ShapeString(k.Shape)}, v {Tensor.ShapeString(v.Shape)}.");
        }
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(heads);
        if (c % heads != 0) throw new ArgumentException($"Channels {c} are not divisible by {heads} heads.", nameof(heads));
        if (keyMask is not null && (keyMask.Length != b * tk))
        {
            throw new ArgumentException($"Attention key mask {Tensor.ShapeString(keyMask.Shape)} does not match (batch {b}, keys {tk}).", nameof(keyMask));
        }
        int d = c / heads;
        bool record = GradMode.ShouldRecord([q, k, v]);
        var y = new Tensor(b, tq, c);
        var probs = record || keepProbabilities ? new Tensor(b, heads, tq, tk) : null;
        float[]? dropScale = null;
        if (dropout > 0f)
        {
            dropScale = new float[b * heads * tq * tk];
            float keep = 1f / (1f - dropout);
            for (int i = 0; i < dropScale.Length; i++) dropScale[i] = rng!.NextFloat() >= dropout ? keep : 0f;
        }
        AttentionKernel.Forward(q.Data, k.Data, v.Data, keyMask is null ? default : keyMask.Data, dropScale, y.Data,
            probs is null ? default : probs.Data, b, tq, tk, heads, d);
        probabilities = keepProbabilities ? probs : null;
        if (record)
        {
            y.GradFn = new LambdaNode("Attention", (o, g) => AttentionKernel.Backward(q.Data, k.Data, v.Data, probs!.Data, dropScale, g,
                q.IsTracked ? q.GradBuffer() : default, k.IsTracked ? k.GradBuffer() : default, v.IsTracked ? v.GradBuffer() : default,
                b, tq, tk, heads, d), q, k, v);
        }
        return y;
    }

    /// <summary>Looks up rows of <paramref name="table"/> (rows, dim): returns (ids.Length, dim), or <paramref name="shape"/> + (dim).</summary>
    public static Tensor Embedding(Tensor table, int[] ids, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(ids);
        if (table.Rank != 2) throw new ArgumentException($"Embedding table must be 2-D; got {Tensor.ShapeString(table.Shape)}.", nameof(table));
        int dim = table.Dim(1);
        int[] outShape = shape.Length == 0 ? [ids.Length, dim] : [.. shape, dim];
        if (Tensor.CheckedLength(outShape) != (long)ids.Length * dim)
        {
            throw new ArgumentException($"Embedding: shape {Tensor.ShapeString(shape)} does not hold {ids.Length} ids.", nameof(shape));
        }
        var y = new Tensor(outShape);
        EmbeddingKernel.Gather(table.Data, dim, ids, y.Data);
        if (GradMode.ShouldRecord(table))
        {
            y.GradFn = new LambdaNode("Embedding", (o, g) => EmbeddingKernel.ScatterAdd(g, ids, dim, table.GradBuffer()), table);
        }
        return y;
    }

    /// <summary>
    /// Mean cross-entropy between rows of <paramref name="logits"/> (N, C) and class <paramref name="targets"/> (N);
    /// targets equal to <paramref name="ignoreIndex"/> are skipped (as PyTorch's −100). Fused log-softmax + NLL.
    /// </summary>
    public static Tensor CrossEntropy(Tensor logits, int[] targets, int ignoreIndex = -100)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(targets);
        int c = logits.Dim(-1), n = logits.Length / Math.Max(c, 1);
        if (targets.Length != n) throw new ArgumentException($"CrossEntropy: {targets.Length} targets for {n} rows of {Tensor.ShapeString(logits.Shape)}.", nameof(targets));
        var logp = new float[logits.Length];
        Kernels.Softmax.LogForward(logits.Data, logp, c);
        double loss = 0;
        int count = 0;
        for (int i = 0; i < n; i++)
        {
            int t = targets[i];
            if (t == ignoreIndex) continue;
            if ((uint)t >= (uint)c) throw new ArgumentOutOfRangeException(nameof(targets), t, $"Target {t} at row {i} is outside the {c} classes.");
            loss -= logp[i * c + t];
            count++;
        }
        var y = new Tensor([count == 0 ? 0f : (float)(loss / count)], 1);
        if (GradMode.ShouldRecord(logits) && count > 0)
        {
            y.GradFn = new LambdaNode("CrossEntropy", (o, g) =>
            {
                float s = g[0] / count;
                var dx = logits.GradBuffer();
                var p = new float[c];
                for (int i = 0; i < n; i++)
                {
                    int t = targets[i];
                    if (t == ignoreIndex) continue;
                    var row = dx.Slice(i * c, c);
                    Kernels.Exponential.Exp(logp.AsSpan(i * c, c), p); // probabilities (logp stays for a retained graph)
                    TensorPrimitives.MultiplyAdd(p, s, row, row);      // dx += s · softmax
                    row[t] -= s;
                }
            }, logits);
        }
        return y;
    }

    /// <summary>Mean squared error between <paramref name="prediction"/> and a constant <paramref name="target"/> of the same shape.</summary>
    public static Tensor MseLoss(Tensor prediction, Tensor target)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(target);
        if (!prediction.Shape.SequenceEqual(target.Shape))
        {
            throw new ArgumentException($"MseLoss shapes differ: {Tensor.ShapeString(prediction.Shape)} vs {Tensor.ShapeString(target.Shape)}.");
        }
        var diff = Sub(prediction, target.Detach());
        return Mean(Mul(diff, diff));
    }
}

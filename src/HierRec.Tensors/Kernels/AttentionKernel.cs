using System.Numerics.Tensors;

namespace HierRec.Tensors.Kernels;

/// <summary>
/// Scaled dot-product attention over heads laid side by side in the channel axis, with a key padding mask.
/// </summary>
/// <remarks>
/// Shapes: q (B, Tq, C), k and v (B, Tk, C), C = H · D; head h is the column block [h·D, (h+1)·D) of every row, which
/// the GEMMs address through their leading dimension, so heads are never split out or transposed in memory. For
/// each (batch, head) it forms the Tq×Tk scores, masks, softmaxes them in place and multiplies by V: only one Tq×Tk
/// block per (batch, head) exists at a time in inference, and the probabilities are kept only when the caller needs
/// them for the backward pass or for explanations. (batch, head) pairs run in parallel on large inputs.
/// </remarks>
public static class AttentionKernel
{
    /// <summary>
    /// Computes <paramref name="output"/> (B, Tq, C). <paramref name="keyMask"/> (B, Tk) marks valid keys with a
    /// non-zero value, or is empty for none. When <paramref name="probs"/> (B, H, Tq, Tk) is non-empty the
    /// attention probabilities are written there.
    /// </summary>
    public static void Forward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, ReadOnlySpan<float> keyMask,
        Span<float> output, Span<float> probs, int batch, int tq, int tk, int heads, int headDim)
        => Forward(q, k, v, keyMask, default, output, probs, batch, tq, tk, heads, headDim);

    /// <summary>
    /// As above, with dropout on the attention probabilities: <paramref name="dropScale"/> (B, H, Tq, Tk) holds 0 for a
    /// dropped weight and 1/(1−p) for a kept one (empty for none). <paramref name="probs"/> receives the probabilities
    /// before dropout, which is what the backward pass needs.
    /// </summary>
    public static void Forward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, ReadOnlySpan<float> keyMask,
        ReadOnlySpan<float> dropScale, Span<float> output, Span<float> probs, int batch, int tq, int tk, int heads, int headDim)
    {
        int c = heads * headDim;
        CheckLength(q, batch * tq * c, nameof(q));
        CheckLength(k, batch * tk * c, nameof(k));
        CheckLength(v, batch * tk * c, nameof(v));
        CheckLength(output, batch * tq * c, nameof(output));
        if (!keyMask.IsEmpty) CheckLength(keyMask, batch * tk, nameof(keyMask));
        if (!probs.IsEmpty) CheckLength(probs, batch * heads * tq * tk, nameof(probs));
        if (!dropScale.IsEmpty) CheckLength(dropScale, batch * heads * tq * tk, nameof(dropScale));
        if (batch == 0 || tq == 0) return;
        float scale = 1f / MathF.Sqrt(headDim);
        unsafe
        {
            fixed (float* pq = q, pk = k, pv = v, pm = keyMask, po = output, pp = probs, pd = dropScale)
            {
                nint aq = (nint)pq, ak = (nint)pk, av = (nint)pv, am = (nint)pm, ao = (nint)po, ap = (nint)pp, ad = (nint)pd;
                bool keepProbs = !probs.IsEmpty, hasMask = !keyMask.IsEmpty, hasDrop = !dropScale.IsEmpty;
                RunPairs(batch * heads, (long)tq * tk * headDim * 2, pair =>
                {
                    int b = pair / heads, h = pair % heads;
                    int rows = tq * tk;
                    float[]? rented = keepProbs ? null : System.Buffers.ArrayPool<float>.Shared.Rent(rows);
                    try
                    {
                        var p = keepProbs ? new Span<float>((float*)ap + (long)pair * rows, rows) : rented.AsSpan(0, rows);
                        var qs = new ReadOnlySpan<float>((float*)aq + (long)b * tq * c + h * headDim, (tq - 1) * c + headDim);
                        var ks = new ReadOnlySpan<float>((float*)ak + (long)b * tk * c + h * headDim, tk == 0 ? 0 : (tk - 1) * c + headDim);
                        var vs = new ReadOnlySpan<float>((float*)av + (long)b * tk * c + h * headDim, tk == 0 ? 0 : (tk - 1) * c + headDim);
                        var os = new Span<float>((float*)ao + (long)b * tq * c + h * headDim, (tq - 1) * c + headDim);
                        if (tk == 0)
                        {
                            for (int i = 0; i < tq; i++) os.Slice(i * c, headDim).Clear();
                            return;
                        }
                        // S = scale · Q Kᵀ  (Tq × Tk)
                        Gemm.Multiply(false, true, tq, tk, headDim, scale, qs, c, ks, c, 0f, p, tk);
                        var mask = hasMask ? new ReadOnlySpan<float>((float*)am + (long)b * tk, tk) : default;
                        for (int i = 0; i < tq; i++)
                        {
                            var row = p.Slice(i * tk, tk);
                            if (hasMask)
                            {
                                for (int j = 0; j < tk; j++) if (mask[j] == 0f) row[j] = float.NegativeInfinity;
                            }
                            Softmax.Row(row, row);
                        }
                        // O = P V  (Tq × D), written into the head's column block; with dropout, O = (P ⊙ scale) V.
                        if (hasDrop)
                        {
                            float[] dropped = System.Buffers.ArrayPool<float>.Shared.Rent(rows);
                            var pd2 = dropped.AsSpan(0, rows);
                            TensorPrimitives.Multiply(p, new ReadOnlySpan<float>((float*)ad + (long)pair * rows, rows), pd2);
                            Gemm.Multiply(false, false, tq, headDim, tk, 1f, pd2, tk, vs, c, 0f, os, c);
                            System.Buffers.ArrayPool<float>.Shared.Return(dropped);
                        }
                        else Gemm.Multiply(false, false, tq, headDim, tk, 1f, p, tk, vs, c, 0f, os, c);
                    }
                    finally
                    {
                        if (rented is not null) System.Buffers.ArrayPool<float>.Shared.Return(rented);
                    }
                });
            }
        }
    }

    /// <summary>
    /// Accumulates dq, dk, dv (each optional: pass an empty span to skip) from dO and the saved probabilities:
    /// dV = Pᵀ dO, dP = dO Vᵀ, dS = P ⊙ (dP − rowsum(dP ⊙ P)), dQ = scale · dS K, dK = scale · dSᵀ Q.
    /// </summary>
    public static void Backward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, ReadOnlySpan<float> probs,
        ReadOnlySpan<float> dOut, Span<float> dq, Span<float> dk, Span<float> dv, int batch, int tq, int tk, int heads, int headDim)
        => Backward(q, k, v, probs, default, dOut, dq, dk, dv, batch, tq, tk, heads, headDim);

    /// <summary>
    /// As above, for a forward pass with dropout scale <paramref name="dropScale"/>: dV = (P ⊙ s)ᵀ dO and
    /// dP = (dO Vᵀ) ⊙ s before the softmax backward.
    /// </summary>
    public static void Backward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, ReadOnlySpan<float> probs,
        ReadOnlySpan<float> dropScale, ReadOnlySpan<float> dOut, Span<float> dq, Span<float> dk, Span<float> dv, int batch, int tq, int tk, int heads, int headDim)
    {
        int c = heads * headDim;
        if (batch == 0 || tq == 0 || tk == 0) return;
        float scale = 1f / MathF.Sqrt(headDim);
        unsafe
        {
            fixed (float* pq = q, pk = k, pv = v, pp = probs, pdo = dOut, pdq = dq, pdk = dk, pdv = dv, pds = dropScale)
            {
                nint aq = (nint)pq, ak = (nint)pk, av = (nint)pv, ap = (nint)pp, ado = (nint)pdo, adq = (nint)pdq, adk = (nint)pdk, adv = (nint)pdv, ads = (nint)pds;
                bool wantQ = !dq.IsEmpty, wantK = !dk.IsEmpty, wantV = !dv.IsEmpty, hasDrop = !dropScale.IsEmpty;
                RunPairs(batch * heads, (long)tq * tk * headDim * 8, pair =>
                {
                    int b = pair / heads, h = pair % heads;
                    int rows = tq * tk;
                    long qOff = (long)b * tq * c + h * headDim, kOff = (long)b * tk * c + h * headDim;
                    int qLen = (tq - 1) * c + headDim, kLen = (tk - 1) * c + headDim;
                    var p = new ReadOnlySpan<float>((float*)ap + (long)pair * rows, rows);
                    var dO = new ReadOnlySpan<float>((float*)ado + qOff, qLen);
                    var ds0 = hasDrop ? new ReadOnlySpan<float>((float*)ads + (long)pair * rows, rows) : default;
                    if (wantV)
                    {
                        if (hasDrop)
                        {
                            float[] dropped = System.Buffers.ArrayPool<float>.Shared.Rent(rows);
                            TensorPrimitives.Multiply(p, ds0, dropped.AsSpan(0, rows));
                            Gemm.Multiply(true, false, tk, headDim, tq, 1f, dropped.AsSpan(0, rows), tk, dO, c, 1f, new Span<float>((float*)adv + kOff, kLen), c);
                            System.Buffers.ArrayPool<float>.Shared.Return(dropped);
                        }
                        else Gemm.Multiply(true, false, tk, headDim, tq, 1f, p, tk, dO, c, 1f, new Span<float>((float*)adv + kOff, kLen), c);
                    }
                    if (!wantQ && !wantK) return;
                    float[] rented = System.Buffers.ArrayPool<float>.Shared.Rent(rows);
                    try
                    {
                        var ds = rented.AsSpan(0, rows);
                        Gemm.Multiply(false, true, tq, tk, headDim, 1f, dO, c, new ReadOnlySpan<float>((float*)av + kOff, kLen), c, 0f, ds, tk);
                        if (hasDrop) TensorPrimitives.Multiply(ds, ds0, ds); // gradient w.r.t. the undropped P
                        for (int i = 0; i < tq; i++)
                        {
                            var pr = p.Slice(i * tk, tk);
                            var dr = ds.Slice(i * tk, tk);
                            float dot = TensorPrimitives.Dot(pr, dr);
                            TensorPrimitives.Subtract(dr, dot, dr);
                            TensorPrimitives.Multiply(dr, pr, dr);
                        }
                        if (wantQ) Gemm.Multiply(false, false, tq, headDim, tk, scale, ds, tk, new ReadOnlySpan<float>((float*)ak + kOff, kLen), c, 1f, new Span<float>((float*)adq + qOff, qLen), c);
                        if (wantK) Gemm.Multiply(true, false, tk, headDim, tq, scale, ds, tk, new ReadOnlySpan<float>((float*)aq + qOff, qLen), c, 1f, new Span<float>((float*)adk + kOff, kLen), c);
                    }
                    finally
                    {
                        System.Buffers.ArrayPool<float>.Shared.Return(rented);
                    }
                });
            }
        }
    }

    private static void RunPairs(int pairs, long flopsPerPair, Action<int> body)
    {
        if (pairs > 1 && pairs * flopsPerPair >= 1L << 20 && Environment.ProcessorCount > 1)
        {
            Parallel.For(0, pairs, body);
        }
        else
        {
            for (int i = 0; i < pairs; i++) body(i);
        }
    }

    private static void CheckLength(ReadOnlySpan<float> s, long expected, string name)
    {
        if (s.Length != expected) throw new ArgumentException($"Attention argument {name} has {s.Length} elements; expected {expected}.", name);
    }
}

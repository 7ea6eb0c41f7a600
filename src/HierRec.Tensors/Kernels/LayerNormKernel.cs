using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace HierRec.Tensors.Kernels;

/// <summary>Layer normalisation over contiguous rows: y = (x − μ) / √(σ² + ε) · γ + β.</summary>
public static class LayerNormKernel
{
    /// <summary>
    /// Normalises each row of length <paramref name="cols"/>; writes the per-row mean and reciprocal standard
    /// deviation (which the backward pass needs) when those spans are non-empty.
    /// </summary>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, float eps,
        Span<float> y, int cols, Span<float> mean, Span<float> rstd)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cols);
        if (x.Length % cols != 0) throw new ArgumentException($"Length {x.Length} is not a multiple of the row length {cols}.", nameof(x));
        if (gamma.Length != cols || beta.Length != cols) throw new ArgumentException($"gamma ({gamma.Length}) and beta ({beta.Length}) must have the row length {cols}.");
        Activations.CheckUnary(x, y);
        int rows = x.Length / cols;
        if (!mean.IsEmpty && (mean.Length < rows || rstd.Length < rows)) throw new ArgumentException($"mean/rstd need {rows} elements.");
        for (int r = 0; r < rows; r++)
        {
            var xr = x.Slice(r * cols, cols);
            var yr = y.Slice(r * cols, cols);
            // Corrected two-pass algorithm: the mean, then Σd and Σd² of d = x − μ in one pass; Σd removes the residual
            // mean that float rounding of the first sum left behind (it matters for rows with |μ| ≫ σ).
            float mu = Sum(xr) / cols;
            var (sd, sd2) = CenteredSums(xr, mu);
            float residual = sd / cols;
            float var = MathF.Max(sd2 / cols - residual * residual, 0f);
            mu += residual;
            float rs = 1f / MathF.Sqrt(var + eps);
            Normalize(xr, mu, rs, gamma, beta, yr);
            if (!mean.IsEmpty)
            {
                mean[r] = mu;
                rstd[r] = rs;
            }
        }
    }

    private static float Sum(ReadOnlySpan<float> x)
    {
        int i = 0;
        ref float xs = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
        var acc0 = Vector256<float>.Zero;
        var acc1 = Vector256<float>.Zero;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= x.Length - 16; i += 16)
            {
                acc0 += Vector256.LoadUnsafe(ref xs, (nuint)i);
                acc1 += Vector256.LoadUnsafe(ref xs, (nuint)i + 8);
            }
        }
        float s = Vector256.Sum(acc0 + acc1);
        for (; i < x.Length; i++) s += x[i];
        return s;
    }

    private static (float Sum, float SumSquares) CenteredSums(ReadOnlySpan<float> x, float mu)
    {
        int i = 0;
        ref float xs = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
        var s = Vector256<float>.Zero;
        var s2 = Vector256<float>.Zero;
        if (Vector256.IsHardwareAccelerated)
        {
            var m = Vector256.Create(mu);
            for (; i <= x.Length - 8; i += 8)
            {
                var d = Vector256.LoadUnsafe(ref xs, (nuint)i) - m;
                s += d;
                s2 = Vector256.FusedMultiplyAdd(d, d, s2);
            }
        }
        float a = Vector256.Sum(s), b = Vector256.Sum(s2);
        for (; i < x.Length; i++)
        {
            float d = x[i] - mu;
            a += d;
            b += d * d;
        }
        return (a, b);
    }

    private static void Normalize(ReadOnlySpan<float> x, float mu, float rs, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> y)
    {
        int i = 0;
        ref float xs = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
        ref float gs = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(gamma);
        ref float bs = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(beta);
        ref float ys = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(y);
        if (Vector256.IsHardwareAccelerated)
        {
            var m = Vector256.Create(mu);
            var r = Vector256.Create(rs);
            for (; i <= x.Length - 8; i += 8)
            {
                var v = (Vector256.LoadUnsafe(ref xs, (nuint)i) - m) * r;
                Vector256.FusedMultiplyAdd(v, Vector256.LoadUnsafe(ref gs, (nuint)i),
                    Vector256.LoadUnsafe(ref bs, (nuint)i)).StoreUnsafe(ref ys, (nuint)i);
            }
        }
        for (; i < x.Length; i++) y[i] = (x[i] - mu) * rs * gamma[i] + beta[i];
    }

    /// <summary>
    /// Accumulates dx, dγ and dβ given dy and the saved mean and rstd:
    /// dx = rstd · (ĝ − mean(ĝ) − x̂ · mean(ĝ ⊙ x̂)) with ĝ = dy ⊙ γ and x̂ the normalised input.
    /// </summary>
    public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> mean, ReadOnlySpan<float> rstd,
        ReadOnlySpan<float> dy, Span<float> dx, Span<float> dgamma, Span<float> dbeta, int cols)
    {
        int rows = x.Length / cols;
        float[] buf = System.Buffers.ArrayPool<float>.Shared.Rent(2 * cols);
        var xhat = buf.AsSpan(0, cols);
        var g = buf.AsSpan(cols, cols);
        for (int r = 0; r < rows; r++)
        {
            var xr = x.Slice(r * cols, cols);
            var dyr = dy.Slice(r * cols, cols);
            TensorPrimitives.Subtract(xr, mean[r], xhat);
            TensorPrimitives.Multiply(xhat, rstd[r], xhat);
            if (!dgamma.IsEmpty) TensorPrimitives.FusedMultiplyAdd(dyr, xhat, dgamma, dgamma);
            if (!dbeta.IsEmpty) TensorPrimitives.Add(dbeta, dyr, dbeta);
            if (dx.IsEmpty) continue;
            TensorPrimitives.Multiply(dyr, gamma, g);
            float meanG = TensorPrimitives.Sum(g) / cols;
            float meanGx = TensorPrimitives.Dot(g, xhat) / cols;
            var dxr = dx.Slice(r * cols, cols);
            float rs = rstd[r];
            for (int j = 0; j < cols; j++) dxr[j] += rs * (g[j] - meanG - xhat[j] * meanGx);
        }
        System.Buffers.ArrayPool<float>.Shared.Return(buf);
    }
}

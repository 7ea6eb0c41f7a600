using System.Numerics.Tensors;

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
            float mu = TensorPrimitives.Sum(xr) / cols;
            // Corrected two-pass algorithm: centre, then remove the residual mean that float rounding of the first
            // sum left behind (it matters for rows with a large mean, e.g. |μ| ≫ σ, and for sequential sums).
            TensorPrimitives.Subtract(xr, mu, yr);
            float residual = TensorPrimitives.Sum(yr) / cols;
            mu += residual;
            TensorPrimitives.Subtract(yr, residual, yr);
            float var = TensorPrimitives.SumOfSquares(yr) / cols;
            float rs = 1f / MathF.Sqrt(var + eps);
            TensorPrimitives.Multiply(yr, rs, yr);
            TensorPrimitives.FusedMultiplyAdd(yr, gamma, beta, yr);
            if (!mean.IsEmpty)
            {
                mean[r] = mu;
                rstd[r] = rs;
            }
        }
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

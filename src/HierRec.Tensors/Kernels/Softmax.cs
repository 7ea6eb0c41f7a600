using System.Numerics.Tensors;

namespace HierRec.Tensors.Kernels;

/// <summary>
/// Softmax and log-softmax over contiguous rows.
/// </summary>
/// <remarks>
/// Both subtract the row maximum before exponentiating: softmax is invariant to that shift, and it keeps every
/// exponent ≤ 0 so that e^x cannot overflow for large scores (±1e4 is routine for unnormalised logits).
/// A row that is entirely −∞ (every position masked) yields zeros rather than NaN.
/// </remarks>
public static class Softmax
{
    /// <summary>Softmax of each row of length <paramref name="cols"/>.</summary>
    public static void Forward(ReadOnlySpan<float> x, Span<float> destination, int cols)
    {
        CheckRows(x, destination, cols);
        for (int r = 0; r < x.Length / Math.Max(cols, 1) && cols > 0; r++)
        {
            Row(x.Slice(r * cols, cols), destination.Slice(r * cols, cols));
        }
    }

    /// <summary>Softmax of one row (in place allowed).</summary>
    public static void Row(ReadOnlySpan<float> x, Span<float> y)
    {
        if (x.Length == 0) return;
        float max = TensorPrimitives.Max(x);
        if (float.IsNegativeInfinity(max))
        {
            y.Clear();
            return;
        }
        TensorPrimitives.Subtract(x, max, y);
        Exponential.Exp(y, y);
        float sum = TensorPrimitives.Sum(y);
        TensorPrimitives.Multiply(y, 1f / sum, y);
    }

    /// <summary>dx += y ⊙ (dy − Σ dy⊙y) per row, given the softmax output y.</summary>
    public static void Backward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, int cols)
    {
        if (cols == 0) return;
        for (int r = 0; r < y.Length / cols; r++)
        {
            var yr = y.Slice(r * cols, cols);
            var gr = dy.Slice(r * cols, cols);
            var dr = dx.Slice(r * cols, cols);
            float dot = TensorPrimitives.Dot(yr, gr);
            for (int j = 0; j < cols; j++) dr[j] += yr[j] * (gr[j] - dot);
        }
    }

    /// <summary>log-softmax of each row: x − max − log Σ e^{x − max}.</summary>
    public static void LogForward(ReadOnlySpan<float> x, Span<float> destination, int cols)
    {
        CheckRows(x, destination, cols);
        if (cols == 0) return;
        for (int r = 0; r < x.Length / cols; r++)
        {
            var xr = x.Slice(r * cols, cols);
            var yr = destination.Slice(r * cols, cols);
            float lse = LogSumExp(xr);
            TensorPrimitives.Subtract(xr, lse, yr);
        }
    }

    /// <summary>dx += dy − softmax(x) · Σ dy, given the log-softmax output y (softmax = e^y).</summary>
    public static void LogBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, int cols)
    {
        if (cols == 0) return;
        for (int r = 0; r < y.Length / cols; r++)
        {
            var yr = y.Slice(r * cols, cols);
            var gr = dy.Slice(r * cols, cols);
            var dr = dx.Slice(r * cols, cols);
            float sum = TensorPrimitives.Sum(gr);
            for (int j = 0; j < cols; j++) dr[j] += gr[j] - MathF.Exp(yr[j]) * sum;
        }
    }

    /// <summary>log Σ e^{x}, computed stably as max + log Σ e^{x − max}.</summary>
    public static float LogSumExp(ReadOnlySpan<float> x)
    {
        if (x.Length == 0) return float.NegativeInfinity;
        float max = TensorPrimitives.Max(x);
        if (float.IsInfinity(max)) return max;
        float[]? rented = null;
        Span<float> tmp = x.Length <= 1024 ? stackalloc float[x.Length] : (rented = System.Buffers.ArrayPool<float>.Shared.Rent(x.Length)).AsSpan(0, x.Length);
        TensorPrimitives.Subtract(x, max, tmp);
        Exponential.Exp(tmp, tmp);
        float s = TensorPrimitives.Sum(tmp);
        if (rented is not null) System.Buffers.ArrayPool<float>.Shared.Return(rented);
        return max + MathF.Log(s);
    }

    private static void CheckRows(ReadOnlySpan<float> x, Span<float> destination, int cols)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        if (cols > 0 && x.Length % cols != 0)
        {
            throw new ArgumentException($"Length {x.Length} is not a multiple of the row length {cols}.", nameof(x));
        }
        Activations.CheckUnary(x, destination);
    }
}

using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace HierRec.Tensors.Kernels;

/// <summary>
/// Element-wise activations and their derivatives. Tanh, sigmoid and ReLU use <see cref="TensorPrimitives"/>; GELU
/// (erf form, as BERT) is hand-written because TensorPrimitives has no erf.
/// </summary>
public static class Activations
{
    // erf(x) ≈ 1 - (a1 t + a2 t² + a3 t³ + a4 t⁴ + a5 t⁵) e^{-x²}, t = 1 / (1 + p|x|): Abramowitz & Stegun 7.1.26,
    // |error| ≤ 1.5e-7, below float32 resolution of the result.
    private const float P = 0.3275911f;
    private const float A1 = 0.254829592f, A2 = -0.284496736f, A3 = 1.421413741f, A4 = -1.453152027f, A5 = 1.061405429f;
    private const float InvSqrt2 = 0.70710678118654752f;
    private const float InvSqrt2Pi = 0.39894228040143268f;

    /// <summary>Validates a unary kernel's spans: same length, and no partial overlap.</summary>
    internal static void CheckUnary(ReadOnlySpan<float> x, Span<float> destination, string xName = "x")
    {
        if (destination.Length < x.Length)
        {
            throw new ArgumentException($"Destination length {destination.Length} is shorter than {xName}'s {x.Length}.", nameof(destination));
        }
        if (x.Overlaps(destination, out int offset) && offset != 0)
        {
            throw new ArgumentException("Input and destination overlap partially; they must be the same span or disjoint.", nameof(destination));
        }
    }

    /// <summary>Error function, float precision (A&amp;S 7.1.26).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Erf(float x)
    {
        float ax = MathF.Abs(x);
        float t = 1f / (1f + P * ax);
        float poly = ((((A5 * t + A4) * t + A3) * t + A2) * t + A1) * t;
        float y = 1f - poly * MathF.Exp(-ax * ax);
        return x < 0 ? -y : y;
    }

    /// <summary>GELU(x) = x · Φ(x) = ½ x (1 + erf(x / √2)).</summary>
    public static void Gelu(ReadOnlySpan<float> x, Span<float> destination)
    {
        CheckUnary(x, destination);
        int i = 0;
        ref float xs = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
        ref float ds = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(destination);
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= x.Length - Vector512<float>.Count; i += Vector512<float>.Count)
                GeluVec(Vector512.LoadUnsafe(ref xs, (nuint)i)).StoreUnsafe(ref ds, (nuint)i);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
                GeluVec(Vector256.LoadUnsafe(ref xs, (nuint)i)).StoreUnsafe(ref ds, (nuint)i);
        }
        // Tail (and the whole input without SIMD): scalar remainder with the same formula.
        for (; i < x.Length; i++) destination[i] = 0.5f * x[i] * (1f + Erf(x[i] * InvSqrt2));
    }

    /// <summary>dx += dy · GELU'(x), GELU'(x) = Φ(x) + x φ(x).</summary>
    public static void GeluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
    {
        if (dy.Length != x.Length || dx.Length != x.Length)
        {
            throw new ArgumentException($"GeluBackward lengths differ: x {x.Length}, dy {dy.Length}, dx {dx.Length}.");
        }
        int i = 0;
        ref float xs = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
        ref float gs = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(dy);
        ref float ds = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(dx);
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var v = Vector256.LoadUnsafe(ref xs, (nuint)i);
                var d = GeluDerivVec(v) * Vector256.LoadUnsafe(ref gs, (nuint)i) + Vector256.LoadUnsafe(ref ds, (nuint)i);
                d.StoreUnsafe(ref ds, (nuint)i);
            }
        }
        for (; i < x.Length; i++)
        {
            float v = x[i];
            float cdf = 0.5f * (1f + Erf(v * InvSqrt2));
            float pdf = InvSqrt2Pi * MathF.Exp(-0.5f * v * v);
            dx[i] += dy[i] * (cdf + v * pdf);
        }
    }

    private static Vector512<float> GeluVec(Vector512<float> x)
    {
        var z = x * Vector512.Create(InvSqrt2);
        var az = Vector512.Abs(z);
        var t = Vector512<float>.One / (Vector512<float>.One + Vector512.Create(P) * az);
        var poly = ((((Vector512.Create(A5) * t + Vector512.Create(A4)) * t + Vector512.Create(A3)) * t + Vector512.Create(A2)) * t + Vector512.Create(A1)) * t;
        var e = Vector512<float>.One - poly * Vector512.Exp(-(az * az));
        var erf = Vector512.ConditionalSelect(Vector512.LessThan(z, Vector512<float>.Zero), -e, e);
        return Vector512.Create(0.5f) * x * (Vector512<float>.One + erf);
    }

    private static Vector256<float> GeluVec(Vector256<float> x)
    {
        var z = x * Vector256.Create(InvSqrt2);
        var erf = ErfVec(z);
        return Vector256.Create(0.5f) * x * (Vector256<float>.One + erf);
    }

    private static Vector256<float> ErfVec(Vector256<float> z)
    {
        var az = Vector256.Abs(z);
        var t = Vector256<float>.One / (Vector256<float>.One + Vector256.Create(P) * az);
        var poly = ((((Vector256.Create(A5) * t + Vector256.Create(A4)) * t + Vector256.Create(A3)) * t + Vector256.Create(A2)) * t + Vector256.Create(A1)) * t;
        var e = Vector256<float>.One - poly * Exponential.Exp(-(az * az));
        return Vector256.ConditionalSelect(Vector256.LessThan(z, Vector256<float>.Zero), -e, e);
    }

    private static Vector256<float> GeluDerivVec(Vector256<float> x)
    {
        var cdf = Vector256.Create(0.5f) * (Vector256<float>.One + ErfVec(x * Vector256.Create(InvSqrt2)));
        var pdf = Vector256.Create(InvSqrt2Pi) * Exponential.Exp(Vector256.Create(-0.5f) * x * x);
        return cdf + x * pdf;
    }

    /// <summary>max(x, 0).</summary>
    public static void Relu(ReadOnlySpan<float> x, Span<float> destination)
    {
        CheckUnary(x, destination);
        TensorPrimitives.Max(x, 0f, destination);
    }

    /// <summary>dx += dy where x &gt; 0.</summary>
    public static void ReluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
    {
        for (int i = 0; i < x.Length; i++) if (x[i] > 0f) dx[i] += dy[i];
    }

    /// <summary>tanh(x).</summary>
    public static void Tanh(ReadOnlySpan<float> x, Span<float> destination)
    {
        CheckUnary(x, destination);
        TensorPrimitives.Tanh(x, destination);
    }

    /// <summary>dx += dy · (1 − y²) given the output y = tanh(x).</summary>
    public static void TanhBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        for (int i = 0; i < y.Length; i++) dx[i] += dy[i] * (1f - y[i] * y[i]);
    }

    /// <summary>1 / (1 + e^{−x}).</summary>
    public static void Sigmoid(ReadOnlySpan<float> x, Span<float> destination)
    {
        CheckUnary(x, destination);
        if (x.IsEmpty) return; // TensorPrimitives.Sigmoid rejects empty spans
        TensorPrimitives.Sigmoid(x, destination);
    }

    /// <summary>dx += dy · y (1 − y) given the output y = σ(x).</summary>
    public static void SigmoidBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        for (int i = 0; i < y.Length; i++) dx[i] += dy[i] * y[i] * (1f - y[i]);
    }
}

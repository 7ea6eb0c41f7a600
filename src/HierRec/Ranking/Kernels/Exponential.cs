using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace HierRec.Ranking.Kernels;

/// <summary>
/// A single-precision e^x (Cephes' expf: range reduction x = n·ln2 + r, a degree-6 polynomial for e^r, then scaling
/// by 2^n through the exponent bits, in two halves), about 1 ulp, several times faster than the double-evaluated
/// <c>Vector256.Exp</c>. Inputs below −87.3 give 0 and above 88.7 give +∞, as float32 e^x does.
/// </summary>
public static class Exponential
{
    private const float Log2E = 1.44269504088896341f;
    private const float C1 = 0.693359375f, C2 = -2.12194440e-4f;
    private const float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f;
    private const float P3 = 4.1665795894e-2f, P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;
    private const float Lo = -87.33654f, Hi = 88.72283f;

    /// <summary>e^x for one value, with the same arithmetic as the vector path.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Exp(float x)
    {
        if (x < Lo) return 0f;
        if (x > Hi) return float.PositiveInfinity;
        if (float.IsNaN(x)) return x;
        float n = MathF.Round(x * Log2E);
        float r = x - n * C1 - n * C2;
        float p = ((((P0 * r + P1) * r + P2) * r + P3) * r + P4) * r + P5;
        p = p * r * r + r + 1f;
        // 2^n as two factors so that n = 128 (e^x near float.MaxValue) and n = −126 both stay representable.
        int ni = (int)n, n1 = ni >> 1, n2 = ni - n1;
        return p * BitConverter.Int32BitsToSingle((n1 + 127) << 23) * BitConverter.Int32BitsToSingle((n2 + 127) << 23);
    }

    /// <summary>e^x for eight lanes (the kernel behind the span overloads).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        var tooSmall = Vector256.LessThan(x, Vector256.Create(Lo));
        var tooLarge = Vector256.GreaterThan(x, Vector256.Create(Hi));
        // MinNative/MaxNative compile to single vminps/vmaxps; NaN is restored at the end.
        var xc = Vector256.MinNative(Vector256.MaxNative(x, Vector256.Create(Lo)), Vector256.Create(Hi));
        var n = Vector256.Round(xc * Vector256.Create(Log2E));
        var r = xc - n * Vector256.Create(C1) - n * Vector256.Create(C2);
        var p = Vector256.FusedMultiplyAdd(Vector256.Create(P0), r, Vector256.Create(P1));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P2));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P3));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P4));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P5));
        p = Vector256.FusedMultiplyAdd(p, r * r, r) + Vector256<float>.One;
        // 2^n as two factors so that n = 128 (e^x near float.MaxValue) and n = −126 both stay representable.
        var ni = Vector256.ConvertToInt32Native(n); // n is in [−126, 128] after the clamp: no saturation needed
        var n1 = Vector256.ShiftRightArithmetic(ni, 1);
        var n2 = ni - n1;
        var result = p * Vector256.ShiftLeft(n1 + Vector256.Create(127), 23).AsSingle() * Vector256.ShiftLeft(n2 + Vector256.Create(127), 23).AsSingle();
        result = Vector256.ConditionalSelect(tooSmall, Vector256<float>.Zero, result);
        result = Vector256.ConditionalSelect(tooLarge, Vector256.Create(float.PositiveInfinity), result);
        // NaN in, NaN out (the clamps above would otherwise turn it into a number).
        return Vector256.ConditionalSelect(Vector256.Equals(x, x), result, x);
    }

    /// <summary>destination[i] = e^{x[i]}.</summary>
    public static void Exp(ReadOnlySpan<float> x, Span<float> destination)
    {
        CheckUnary(x, destination);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref float xs = ref MemoryMarshal.GetReference(x);
            ref float ds = ref MemoryMarshal.GetReference(destination);
            for (; i <= x.Length - 8; i += 8) Exp(Vector256.LoadUnsafe(ref xs, (nuint)i)).StoreUnsafe(ref ds, (nuint)i);
        }
        // Tail (and no SIMD): the scalar form of the same formula.
        for (; i < x.Length; i++) destination[i] = Exp(x[i]);
    }

    /// <summary>
    /// Σ e^{min(x[i]·scale + bias, 0)}: the log-sum-exp's inner sum, where bias = −max(x·scale) makes every exponent ≤ 0
    /// in exact arithmetic. At extreme magnitudes (|x·scale| near 10¹⁹) the fused multiply-add's rounding can leave the
    /// largest term a few ulps above 0, which e^ would turn into +∞; the clamp keeps the sum finite and ≤ n.
    /// </summary>
    internal static double SumExpNonPositive(ReadOnlySpan<float> x, float scale, float bias) => SumExp(x, scale, bias, 0f);

    /// <summary>Σ e^{x[i]·scale + bias}, in one pass without storing the exponentials.</summary>
    public static double SumExp(ReadOnlySpan<float> x, float scale, float bias) => SumExp(x, scale, bias, float.PositiveInfinity);

    /// <summary>Σ e^{min(x[i]·scale + bias, upper)}: one driver for both sums (min with +∞ leaves finite exponents as they are).</summary>
    private static double SumExp(ReadOnlySpan<float> x, float scale, float bias, float upper)
    {
        double sum = 0;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref float xs = ref MemoryMarshal.GetReference(x);
            var vs = Vector256.Create(scale);
            var vb = Vector256.Create(bias);
            var vu = Vector256.Create(upper);
            var acc0 = Vector256<float>.Zero;
            var acc1 = Vector256<float>.Zero;
            for (; i <= x.Length - 16; i += 16)
            {
                acc0 += Exp(Vector256.Min(Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref xs, (nuint)i), vs, vb), vu));
                acc1 += Exp(Vector256.Min(Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref xs, (nuint)(i + 8)), vs, vb), vu));
            }
            sum = Vector256.Sum(acc0 + acc1);
        }
        // Tail (and no SIMD): scalar.
        for (; i < x.Length; i++) sum += Exp(MathF.Min(x[i] * scale + bias, upper));
        return sum;
    }

    private static void CheckUnary(ReadOnlySpan<float> x, Span<float> destination, string xName = "x")
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
}

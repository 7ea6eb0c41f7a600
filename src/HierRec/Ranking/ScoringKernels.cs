using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace HierRec.Ranking;

/// <summary>
/// Scores one query against a run of item rows. Rows are stored with a padded stride (zero-filled past the dimension),
/// so the SIMD loops have no tail: the padding contributes 0 to every dot product. Each kernel has a scalar
/// reference in <see cref="ScoringReference"/> that the tests compare against.
/// </summary>
internal static unsafe class ScoringKernels
{
    /// <summary>Row stride (in elements) for float32/float16 rows: the dimension rounded up to 16.</summary>
    public static int FloatStride(int dimension) => (dimension + 15) & ~15;

    /// <summary>Row stride for int8 rows: the dimension rounded up to 32.</summary>
    public static int Int8Stride(int dimension) => (dimension + 31) & ~31;

    /// <summary>scores[r] = ⟨q, items[r]⟩ for <paramref name="rows"/> float32 rows; q has length stride (zero-padded).</summary>
    public static void DotF32(float* q, float* items, int stride, int rows, float* scores)
    {
        int r = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            // Four rows at a time: four independent accumulators and one query load per four FMAs.
            for (; r <= rows - 4; r += 4)
            {
                float* x0 = items + (long)r * stride, x1 = x0 + stride, x2 = x1 + stride, x3 = x2 + stride;
                Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                for (int j = 0; j < stride; j += 16)
                {
                    var qv = Vector512.Load(q + j);
                    a0 = Vector512.FusedMultiplyAdd(Vector512.Load(x0 + j), qv, a0);
                    a1 = Vector512.FusedMultiplyAdd(Vector512.Load(x1 + j), qv, a1);
                    a2 = Vector512.FusedMultiplyAdd(Vector512.Load(x2 + j), qv, a2);
                    a3 = Vector512.FusedMultiplyAdd(Vector512.Load(x3 + j), qv, a3);
                }
                scores[r] = Vector512.Sum(a0);
                scores[r + 1] = Vector512.Sum(a1);
                scores[r + 2] = Vector512.Sum(a2);
                scores[r + 3] = Vector512.Sum(a3);
            }
        }
        else if (Vector256.IsHardwareAccelerated && stride >= 128)
        {
            // Wide rows: one row at a time with four accumulators, so memory is read in one sequential stream.
            for (; r < rows; r++)
            {
                float* x = items + (long)r * stride;
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                for (int j = 0; j < stride; j += 32)
                {
                    a0 = Vector256.FusedMultiplyAdd(Vector256.Load(x + j), Vector256.Load(q + j), a0);
                    a1 = Vector256.FusedMultiplyAdd(Vector256.Load(x + j + 8), Vector256.Load(q + j + 8), a1);
                    if (j + 16 < stride)
                    {
                        a2 = Vector256.FusedMultiplyAdd(Vector256.Load(x + j + 16), Vector256.Load(q + j + 16), a2);
                        a3 = Vector256.FusedMultiplyAdd(Vector256.Load(x + j + 24), Vector256.Load(q + j + 24), a3);
                    }
                }
                scores[r] = Vector256.Sum((a0 + a1) + (a2 + a3));
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; r <= rows - 4; r += 4)
            {
                float* x0 = items + (long)r * stride, x1 = x0 + stride, x2 = x1 + stride, x3 = x2 + stride;
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default;
                for (int j = 0; j < stride; j += 16)
                {
                    var q0 = Vector256.Load(q + j);
                    var q1 = Vector256.Load(q + j + 8);
                    a0 = Vector256.FusedMultiplyAdd(Vector256.Load(x0 + j), q0, a0);
                    b0 = Vector256.FusedMultiplyAdd(Vector256.Load(x0 + j + 8), q1, b0);
                    a1 = Vector256.FusedMultiplyAdd(Vector256.Load(x1 + j), q0, a1);
                    b1 = Vector256.FusedMultiplyAdd(Vector256.Load(x1 + j + 8), q1, b1);
                    a2 = Vector256.FusedMultiplyAdd(Vector256.Load(x2 + j), q0, a2);
                    b2 = Vector256.FusedMultiplyAdd(Vector256.Load(x2 + j + 8), q1, b2);
                    a3 = Vector256.FusedMultiplyAdd(Vector256.Load(x3 + j), q0, a3);
                    b3 = Vector256.FusedMultiplyAdd(Vector256.Load(x3 + j + 8), q1, b3);
                }
                scores[r] = Vector256.Sum(a0 + b0);
                scores[r + 1] = Vector256.Sum(a1 + b1);
                scores[r + 2] = Vector256.Sum(a2 + b2);
                scores[r + 3] = Vector256.Sum(a3 + b3);
            }
        }
        // Remaining rows (fewer than four, or no SIMD): one row at a time through TensorPrimitives.
        for (; r < rows; r++)
        {
            scores[r] = TensorPrimitives.Dot(new ReadOnlySpan<float>(q, stride), new ReadOnlySpan<float>(items + (long)r * stride, stride));
        }
    }

    /// <summary>
    /// scores[r] = ⟨q, items[r]⟩ for float16 rows. With AVX2 the halves are widened to float in registers (bit
    /// arithmetic: shift the exponent and mantissa into place, rescale by 2^112, restore the sign; exact for normal
    /// and subnormal halves, and the index never stores ±∞ or NaN); otherwise a block at a time goes through
    /// TensorPrimitives' conversion into <paramref name="scratch"/>.
    /// </summary>
    public static void DotF16(float* q, Half* items, int stride, int rows, float* scores, float* scratch, int scratchRows)
    {
        if (Vector256.IsHardwareAccelerated)
        {
            var magic = Vector256.Create(5.192297e33f); // 2^112
            var absMask = Vector256.Create(0x7FFFu);
            var signMask = Vector256.Create(0x8000u);
            for (int r = 0; r < rows; r++)
            {
                ushort* x = (ushort*)(items + (long)r * stride);
                Vector256<float> a0 = default, a1 = default;
                for (int j = 0; j < stride; j += 16)
                {
                    var h = Vector256.Load(x + j);
                    var (lo, hi) = Vector256.Widen(h);
                    a0 = Vector256.FusedMultiplyAdd(HalfToSingle(lo, magic, absMask, signMask), Vector256.Load(q + j), a0);
                    a1 = Vector256.FusedMultiplyAdd(HalfToSingle(hi, magic, absMask, signMask), Vector256.Load(q + j + 8), a1);
                }
                scores[r] = Vector256.Sum(a0 + a1);
            }
            return;
        }
        for (int r0 = 0; r0 < rows; r0 += scratchRows)
        {
            int n = Math.Min(scratchRows, rows - r0);
            TensorPrimitives.ConvertToSingle(new ReadOnlySpan<Half>(items + (long)r0 * stride, n * stride), new Span<float>(scratch, n * stride));
            DotF32(q, scratch, stride, n, scores + r0);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> HalfToSingle(Vector256<uint> h, Vector256<float> magic, Vector256<uint> absMask, Vector256<uint> signMask)
    {
        var magnitude = Vector256.ShiftLeft(h & absMask, 13).AsSingle() * magic;
        return (magnitude.AsUInt32() | Vector256.ShiftLeft(h & signMask, 16)).AsSingle();
    }

    /// <summary>
    /// scores[r] = scale[r] · qScale · Σ q16[j] · x8[r, j] for int8 rows against a query quantised to int16 (|q16| ≤ 4095,
    /// so the int32 accumulator cannot overflow for stride ≤ 4096).
    /// </summary>
    public static void DotI8(short* q, sbyte* items, int stride, int rows, float* itemScales, float qScale, float* scores)
    {
        int r = 0;
        if (Avx2.IsSupported)
        {
            var qs = Vector128.Create(qScale);
            for (; r <= rows - 4; r += 4)
            {
                sbyte* x0 = items + (long)r * stride, x1 = x0 + stride, x2 = x1 + stride, x3 = x2 + stride;
                Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default;
                for (int j = 0; j < stride; j += 16)
                {
                    // Sign-extend 16 int8 → 16 int16, multiply by the int16 query and add adjacent pairs into int32.
                    var qv = Avx.LoadVector256(q + j);
                    a0 = Avx2.Add(a0, Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(x0 + j), qv));
                    a1 = Avx2.Add(a1, Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(x1 + j), qv));
                    a2 = Avx2.Add(a2, Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(x2 + j), qv));
                    a3 = Avx2.Add(a3, Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(x3 + j), qv));
                }
                // One reduction for four rows: two rounds of horizontal adds leave, per 128-bit lane, the partial sums
                // of rows 0..3; adding the two lanes gives the four totals.
                var h = Avx2.HorizontalAdd(Avx2.HorizontalAdd(a0, a1), Avx2.HorizontalAdd(a2, a3));
                var total = Sse2.Add(h.GetLower(), h.GetUpper());
                var f = Sse2.ConvertToVector128Single(total) * Vector128.Load(itemScales + r) * qs;
                f.Store(scores + r);
            }
        }
        // Remaining rows, or no AVX2: scalar integer loop (same arithmetic, so the same result).
        for (; r < rows; r++)
        {
            sbyte* x = items + (long)r * stride;
            int acc = 0;
            for (int j = 0; j < stride; j++) acc += q[j] * x[j];
            scores[r] = acc * itemScales[r] * qScale;
        }
    }

    /// <summary>Largest |q| maps to 4095; returns the scale that maps int16 back to float.</summary>
    public static float QuantizeQuery(ReadOnlySpan<float> q, Span<short> destination)
    {
        // MaxMagnitude returns the signed value of largest magnitude, so take |·| before testing it.
        float max = q.Length == 0 ? 0 : Math.Abs(TensorPrimitives.MaxMagnitude(q));
        destination.Clear();
        if (!(max > 0)) return 0f;
        float s = 4095f / max;
        for (int i = 0; i < q.Length; i++) destination[i] = (short)MathF.Round(q[i] * s);
        return 1f / s;
    }

    /// <summary>Symmetric per-row int8 quantisation: largest |x| maps to 127; returns the row's scale.</summary>
    public static float QuantizeRow(ReadOnlySpan<float> x, Span<sbyte> destination)
    {
        float max = x.Length == 0 ? 0 : Math.Abs(TensorPrimitives.MaxMagnitude(x));
        destination.Clear();
        if (!(max > 0)) return 0f;
        float s = 127f / max;
        for (int i = 0; i < x.Length; i++) destination[i] = (sbyte)Math.Clamp(MathF.Round(x[i] * s), -127, 127);
        return 1f / s;
    }
}

/// <summary>Plain scalar references for the scoring kernels (double accumulation).</summary>
internal static class ScoringReference
{
    public static double Dot(ReadOnlySpan<float> q, ReadOnlySpan<float> x)
    {
        double s = 0;
        for (int i = 0; i < q.Length; i++) s += (double)q[i] * x[i];
        return s;
    }
}

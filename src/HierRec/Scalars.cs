using TorchSharp;
using static TorchSharp.torch;

namespace HierRec;

/// <summary>
/// Tensor arithmetic with numbers, kept safe from TorchSharp 0.107's implicit-Scalar finalizer race. An implicitly
/// created <c>Scalar</c> (the <c>0.5</c> of <c>x * 0.5</c>, the <c>0</c> of <c>mask.eq(0)</c>, and the alpha of 1
/// that <c>a + b</c> and <c>add(b)</c> create inside TorchSharp) is freed by its finalizer, and nothing keeps it
/// alive across the native call that reads it: a garbage collection at that moment frees it mid-call, and libtorch
/// reads freed memory ("toFloat … Expected false to be true", "Unknown scalar type") or crashes the process.
/// Training steps are guarded by <see cref="Training.NoCollection"/>; serving runs on many threads, where no such
/// region holds. So every Scalar HierRec passes to libtorch comes from here: constants live in static fields (never
/// finalized), and a runtime value lives in a <c>using</c> local until after the call returns. A test
/// (ScalarsTests) reads the compiled assembly and fails on any implicit Scalar, any Scalar made outside this
/// class, and any call to a TorchSharp member that makes one inside.
/// </summary>
/// <remarks>The number's .NET type is kept (an int stays an integer Scalar), so type promotion is what the
/// operators gave.</remarks>
internal static class Scalars
{
    /// <summary>The integer Scalars 0 and 1 (the alpha of an addition).</summary>
    public static readonly Scalar Zero = 0.ToScalar(), One = 1.ToScalar();

    /// <summary>a + b (TorchSharp's <c>+</c> makes its alpha implicitly).</summary>
    public static Tensor Plus(this Tensor a, Tensor b) => a.add(b, One);

    /// <summary>a += b in place.</summary>
    public static Tensor PlusInPlace(this Tensor a, Tensor b) => a.add_(b, One);

    /// <summary>a + α b.</summary>
    public static Tensor PlusScaled(this Tensor a, Tensor b, double alpha) => With(alpha, s => a.add(b, s));

    /// <summary>a += α b in place.</summary>
    public static Tensor PlusScaledInPlace(this Tensor a, Tensor b, double alpha) => With(alpha, s => a.add_(b, s));

    /// <summary>a + v (integer).</summary>
    public static Tensor Plus(this Tensor a, long v) => With(v, s => a.add(s, One));

    /// <summary>a + v.</summary>
    public static Tensor Plus(this Tensor a, double v) => With(v, s => a.add(s, One));

    /// <summary>a += v in place.</summary>
    public static Tensor PlusInPlace(this Tensor a, double v) => With(v, s => a.add_(s, One));

    /// <summary>a · v.</summary>
    public static Tensor Times(this Tensor a, double v) => With(v, s => a.mul(s));

    /// <summary>a · v (a float, kept float: the dtype libtorch infers is the same either way for float
    /// tensors).</summary>
    public static Tensor Times(this Tensor a, float v) => With(v, s => a.mul(s));

    /// <summary>a / v.</summary>
    public static Tensor Over(this Tensor a, double v) => With(v, s => a.div(s));

    /// <summary>a / v in place.</summary>
    public static Tensor OverInPlace(this Tensor a, double v) => With(v, s => a.div_(s));

    /// <summary>v − a.</summary>
    public static Tensor SubtractedFrom(this Tensor a, long v) => With(v, s => a.neg().add_(s, One));

    /// <summary>a², as a · a (TorchSharp's <c>square()</c> makes its exponent implicitly).</summary>
    public static Tensor Squared(this Tensor a) => a.mul(a);

    /// <summary>a == v, elementwise.</summary>
    public static Tensor EqualTo(this Tensor a, long v) => With(v, s => a.eq(s));

    /// <summary>a &gt; v, elementwise.</summary>
    public static Tensor GreaterThan(this Tensor a, double v) => With(v, s => a.gt(s));

    /// <summary>max(a, v), elementwise.</summary>
    public static Tensor AtLeast(this Tensor a, double v) => With(v, s => a.clamp_min(s));

    /// <summary>max(a, v), elementwise, integer.</summary>
    public static Tensor AtLeast(this Tensor a, long v) => With(v, s => a.clamp_min(s));

    /// <summary>a clamped to [lo, hi], integer.</summary>
    public static Tensor Clamped(this Tensor a, long lo, long hi)
    {
        using var l = lo.ToScalar();
        using var h = hi.ToScalar();
        return a.clamp(l, h);
    }

    /// <summary>a with v where <paramref name="mask"/> is true.</summary>
    public static Tensor FilledWhere(this Tensor a, Tensor mask, double v) => With(v, s => a.masked_fill(mask, s));

    /// <summary>a filled with v in place.</summary>
    public static Tensor FillInPlace(this Tensor a, double v) => With(v, s => a.fill_(s));

    /// <summary>0, 1, …, n − 1 as int64 on <paramref name="device"/> (with explicit start and step: arange(stop) makes them implicitly).</summary>
    public static Tensor Arange(long n, Device device) => With(n, s => torch.arange(Zero, s, One, ScalarType.Int64, device));

    /// <summary>A tensor of <paramref name="shape"/> filled with the integer v.</summary>
    public static Tensor Full(long[] shape, long v, ScalarType dtype, Device device) => With(v, s => torch.full(shape, s, dtype, device));

    /// <summary>A tensor shaped like <paramref name="like"/> filled with v.</summary>
    public static Tensor FullLike(Tensor like, double v) => With(v, s => torch.full_like(like, s));

    /// <summary>A Scalar for a static field: alive as long as the field, so never finalized mid-call.</summary>
    public static Scalar Constant(double v) => v.ToScalar();

    /// <summary>Runs <paramref name="op"/> with v as a Scalar that lives until it returns.</summary>
    private static Tensor With(double v, Func<Scalar, Tensor> op)
    {
        using var s = v.ToScalar();
        return op(s);
    }

    /// <summary>As <see cref="With(double, Func{Scalar, Tensor})"/> for an integer (an integer Scalar).</summary>
    private static Tensor With(long v, Func<Scalar, Tensor> op)
    {
        using var s = v.ToScalar();
        return op(s);
    }

    /// <summary>As <see cref="With(double, Func{Scalar, Tensor})"/> for a float (a float Scalar).</summary>
    private static Tensor With(float v, Func<Scalar, Tensor> op)
    {
        using var s = v.ToScalar();
        return op(s);
    }
}

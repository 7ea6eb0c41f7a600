using TorchSharp;
using static TorchSharp.torch;

namespace HierRec.Tests;

/// <summary>One of each unsafe kind of Scalar, for <see cref="ScalarsTests"/> to find in this file (never
/// run).</summary>
internal static class ScalarScanExamples
{
    public static Tensor Multiply(Tensor x) => x * 0.5;

    public static Tensor Add(Tensor x, Tensor y) => x + y;

    public static Tensor Compare(Tensor x) => x.eq(0);

    public static Tensor Explicit(Tensor x) => x.mul(0.5.ToScalar());
}

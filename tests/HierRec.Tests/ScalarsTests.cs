using TorchSharp;
using static TorchSharp.torch;

namespace HierRec.Tests;

public class ScalarsTests
{
    private static readonly Lazy<HashSet<string>> Unsafe =
        new(() => ScalarScan.UnsafeTorchSharpMembers(typeof(Scalar).Assembly.Location));

    [Fact]
    public void The_library_passes_libtorch_no_Scalar_its_finalizer_can_free_mid_call()
    {
        var findings = ScalarScan.Findings(typeof(HierarchicalRecommender).Assembly.Location, Unsafe.Value, nameof(Scalars));
        Assert.True(findings.Count == 0,
            $"{findings.Count} unsafe Scalars (use HierRec.Scalars):{Environment.NewLine}{string.Join(Environment.NewLine, findings)}");
    }

    [Fact]
    public void The_scan_finds_each_kind_of_unsafe_Scalar()
    {
        Assert.Contains("torch.Tensor.op_Addition(Tensor, Tensor)", Unsafe.Value);   // its alpha, made inside TorchSharp
        Assert.Contains("torch.Tensor.square()", Unsafe.Value);
        Assert.DoesNotContain("torch.Tensor.add(Tensor, Scalar)", Unsafe.Value);
        var findings = ScalarScan.Findings(typeof(ScalarsTests).Assembly.Location, Unsafe.Value, nameof(Scalars))
            .Where(f => f.StartsWith(nameof(ScalarScanExamples) + ".cs:", StringComparison.Ordinal)).ToList();
        Assert.Contains(findings, f => f.EndsWith("torch.Tensor.op_Multiply(Tensor, Double)", StringComparison.Ordinal));
        Assert.Contains(findings, f => f.EndsWith("torch.Tensor.op_Addition(Tensor, Tensor)", StringComparison.Ordinal));
        Assert.Contains(findings, f => f.EndsWith("Scalar.op_Implicit(Int32)", StringComparison.Ordinal));
        Assert.Contains(findings, f => f.Contains("ToScalar", StringComparison.Ordinal));
        Assert.Equal(4, findings.Count);
    }

    [Fact]
    public void Each_helper_computes_what_the_operator_did_with_the_same_dtype()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.tensor(new float[] { -2f, 0f, 1.5f, 3f });
        var b = torch.tensor(new float[] { 1f, 2f, 3f, 4f });
        var ints = torch.tensor(new long[] { 0, 1, 2, 5 });
        Same(a + b, a.Plus(b));
        Same(a + 0.25 * b, a.PlusScaled(b, 0.25));
        Same(a * 0.5, a.Times(0.5));
        Same(a * 0.5f, a.Times(0.5f));
        Same(a / 3.0, a.Over(3.0));
        Same(a * a, a.Squared());
        Same(1 - ints, ints.SubtractedFrom(1));
        Same(ints + 7, ints.Plus(7L));
        Same(a + 2.5, a.Plus(2.5));
        Same(a.eq(0), a.EqualTo(0));
        Same(a.gt(0), a.GreaterThan(0));
        Same(a.clamp_min(0.5), a.AtLeast(0.5));
        Same(ints.clamp_min(2), ints.AtLeast(2L));
        Same(ints.clamp(1, 2), ints.Clamped(1, 2));
        Same(a.masked_fill(a.lt(0), -9.0), a.FilledWhere(a.lt(0), -9.0));
        Same(torch.arange(5, ScalarType.Int64), Scalars.Arange(5, CPU));
        Same(torch.full(2, 3, 7, ScalarType.Int64), Scalars.Full([2, 3], 7, ScalarType.Int64, CPU));
        Same(torch.full_like(a, 0.25), Scalars.FullLike(a, 0.25));
        Same(a.clone().add_(b), a.clone().PlusInPlace(b));
        Same(a.clone().add_(b, 0.5), a.clone().PlusScaledInPlace(b, 0.5));
        Same(a.clone().div_(4.0), a.clone().OverInPlace(4.0));
        Same(a.clone().add_(1.0), a.clone().PlusInPlace(1.0));
        Same(a.clone().fill_(-3.0), a.clone().FillInPlace(-3.0));
    }

    private static void Same(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.dtype, actual.dtype);
        Assert.Equal(expected.shape, actual.shape);
        Assert.Equal(Values(expected), Values(actual));
    }

    private static double[] Values(Tensor t) => t.to_type(ScalarType.Float64).data<double>().ToArray();
}

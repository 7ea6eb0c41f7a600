using TorchSharp;
using static TorchSharp.torch;
using EngineTensor = HierRec.Serialization.FloatTensor;

namespace HierRec.Tests.Text;

/// <summary>Comparisons of libtorch tensors with golden float arrays, reporting the worst element.</summary>
internal static class TorchAssert
{
    public static float[] Values(Tensor t)
    {
        using var cpu = t.detach().cpu().contiguous();
        return cpu.data<float>().ToArray();
    }

    public static void Close(EngineTensor expected, Tensor actual, float tolerance, string what)
    {
        Assert.True(expected.Shape.ToArray().Select(d => (long)d).SequenceEqual(actual.shape),
            $"{what}: shape ({string.Join(", ", actual.shape)}) vs expected {EngineTensor.ShapeString(expected.Shape)}");
        Close(expected.ToArray(), Values(actual), tolerance, what);
    }

    public static void Close(float[] e, float[] a, float tolerance, string what)
    {
        Assert.Equal(e.Length, a.Length);
        float worst = 0;
        int at = -1;
        for (int i = 0; i < e.Length; i++)
        {
            float d = MathF.Abs(e[i] - a[i]);
            if (!(d <= worst)) { worst = d; at = i; }
        }
        Assert.True(worst <= tolerance, $"{what}: max |diff| {worst} at {at} (expected {(at >= 0 ? e[at] : 0)}, got {(at >= 0 ? a[at] : 0)})");
    }
}

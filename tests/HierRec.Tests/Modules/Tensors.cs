using TorchSharp;
using static TorchSharp.torch;

namespace HierRec.Tests.Modules;

/// <summary>Small tensor helpers of the tests.</summary>
internal static class T
{
    public static Tensor Of(float[] values, params long[] shape) => torch.tensor(values, shape);

    public static Tensor Normal(ulong seed, params long[] shape)
    {
        using var g = new Generator(seed);
        return torch.randn(shape, generator: g);
    }

    public static float[] Values(Tensor t)
    {
        using var cpu = t.detach().to_type(ScalarType.Float32).cpu().contiguous();
        return cpu.data<float>().ToArray();
    }

    public static float At(Tensor t, params long[] index) => t[index.Select(i => TensorIndex.Single(i)).ToArray()].item<float>();

    public static Generator Gen(ulong seed) => new(seed);
}

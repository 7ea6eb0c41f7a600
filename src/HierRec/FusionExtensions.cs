using TorchSharp;
using static TorchSharp.torch;

namespace HierRec;

/// <summary>Conveniences over <see cref="IFusion"/> for one user, as plain floats.</summary>
public static class FusionExtensions
{
    /// <summary>Fuses one user's layer vectors; <paramref name="contributions"/> are the layers' shares.</summary>
    public static float[] FuseOne(this IFusion fusion, IReadOnlyList<float[]> layers, out float[] contributions)
    {
        ArgumentNullException.ThrowIfNull(fusion);
        ArgumentNullException.ThrowIfNull(layers);
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var result = fusion.Fuse(layers.Select(l => torch.tensor(l, [1, l.Length])).ToArray());
        contributions = TorchInterop.ToFloats(result.Contributions);
        return TorchInterop.ToFloats(result.Fused);
    }
}

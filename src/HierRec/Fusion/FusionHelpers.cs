using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HierRec.Fusion;

/// <summary>Shared checks and helpers of the fusions.</summary>
internal static class FusionHelpers
{
    public static long Check(IReadOnlyList<Tensor> layers, int expected, int dim, string fusion)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Count != expected) throw new ArgumentException($"{fusion} was built for {expected} layers; got {layers.Count}.", nameof(layers));
        long b = -1;
        for (int l = 0; l < layers.Count; l++)
        {
            var t = layers[l] ?? throw new ArgumentException($"Layer {l} is null.", nameof(layers));
            if (t.dim() != 2 || t.shape[1] != dim) throw new ArgumentException($"{fusion}: layer {l} must be (batch, {dim}); got {TorchInterop.ShapeString(t.shape)}.", nameof(layers));
            if (b >= 0 && t.shape[0] != b) throw new ArgumentException($"{fusion}: layer {l} has {t.shape[0]} rows, layer 0 has {b}.", nameof(layers));
            b = t.shape[0];
        }
        return b;
    }

    /// <summary>Shares: each row's values divided by the row sum (uniform where the sum is 0); detached.</summary>
    public static Tensor NormalizeRows(Tensor values)
    {
        using var scope = torch.NewDisposeScope();
        var v = values.detach();
        var sum = v.sum(1, keepdim: true);
        var uniform = Scalars.FullLike(v, 1.0 / v.shape[1]);
        return torch.where(sum.GreaterThan(0), v / sum.AtLeast(1e-30), uniform).MoveToOuterDisposeScope();
    }
}

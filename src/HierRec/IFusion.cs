using static TorchSharp.torch;

namespace HierRec;

/// <summary>
/// Fuses several layer vectors of the same users (profile, behaviour, social, concept, context) into one.
/// </summary>
/// <remarks>
/// Contract: the layers passed to <see cref="Fuse"/> are L tensors of shape (B, D), row b of each describing user b, in
/// the order the fusion was built for; row b of the result depends on row b of the layers only. Contributions are
/// defined by each implementation (attention weights, gate norms, or ablation). Safe for concurrent inference in eval
/// mode under no-grad.
/// </remarks>
public interface IFusion
{
    /// <summary>Number of layers L the fusion expects.</summary>
    int LayerCount { get; }

    /// <summary>Width of the fused vector.</summary>
    int OutputDimension { get; }

    /// <summary>Fuses L (B, D) tensors into (B, OutputDimension) and reports each layer's share per user.</summary>
    FusionResult Fuse(IReadOnlyList<Tensor> layers);
}

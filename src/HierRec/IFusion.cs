using HierRec.Tensors;

namespace HierRec;

/// <summary>
/// Fuses several layer vectors of the same users (profile, behaviour, social, concept, context) into one.
/// </summary>
/// <remarks>
/// Contract: the layers passed to <see cref="Fuse"/> are L tensors of shape (B, D), row b of each describing
/// user b, in the order the fusion was built for. The result is (B, <see cref="OutputDimension"/>), differentiable while
/// gradients are recorded. <c>contributions</c> is a (B, L) tensor of non-negative shares summing to 1 per row, layer l's
/// share of user b's fused vector, defined by each implementation (attention weights, gate norms, or ablation).
/// Contributions are plain values (not differentiable). Safe for concurrent inference in no-grad scopes and eval mode.
/// </remarks>
public interface IFusion
{
    /// <summary>Number of layers L the fusion expects.</summary>
    int LayerCount { get; }

    /// <summary>Width of the fused vector.</summary>
    int OutputDimension { get; }

    /// <summary>Fuses L (B, D) tensors into (B, OutputDimension) and reports each layer's share per user.</summary>
    Tensor Fuse(IReadOnlyList<Tensor> layers, out Tensor contributions);
}

using static TorchSharp.torch;

namespace HierRec;

/// <summary>What a fusion returns: the fused vectors and each layer's share of them.</summary>
/// <param name="Fused">(B, OutputDimension), differentiable while gradients are recorded.</param>
/// <param name="Contributions">(B, L) non-negative shares summing to 1 per row; plain values (detached).</param>
public readonly record struct FusionResult(Tensor Fused, Tensor Contributions) : IDisposable
{
    /// <summary>Disposes both tensors.</summary>
    public void Dispose()
    {
        Fused?.Dispose();
        Contributions?.Dispose();
    }
}

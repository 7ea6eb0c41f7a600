using static TorchSharp.torch;

namespace HierRec.Users;

/// <summary>A user layer's vectors and the attention weights behind them.</summary>
/// <param name="Vectors">(B, D) layer vectors, differentiable while gradients are recorded.</param>
/// <param name="Weights">(B, T) attention over the layer's inputs (history items, friends), averaged over heads; padding 0; detached.</param>
public readonly record struct LayerOutput(Tensor Vectors, Tensor Weights) : IDisposable
{
    /// <summary>Disposes both tensors.</summary>
    public void Dispose()
    {
        Vectors?.Dispose();
        Weights?.Dispose();
    }
}

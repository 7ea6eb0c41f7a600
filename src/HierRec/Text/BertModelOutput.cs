using static TorchSharp.torch;

namespace HierRec.Text;

/// <summary>What <see cref="BertModel.Forward(BertBatch, bool, bool)"/> returns; dispose it to free the tensors.</summary>
/// <param name="LastHiddenState">(batch, length, H) token vectors of the top layer.</param>
/// <param name="PoolerOutput">(batch, H) tanh pooler output, or null for a model without a pooler.</param>
/// <param name="Attentions">Per layer, bottom first, the (batch, heads, length, length) attention weights; null unless requested.</param>
/// <param name="HiddenStates">The embeddings' output and each layer's output (L + 1 tensors); null unless requested.</param>
public sealed record BertModelOutput(Tensor LastHiddenState, Tensor? PoolerOutput, IReadOnlyList<Tensor>? Attentions,
    IReadOnlyList<Tensor>? HiddenStates) : IDisposable
{
    /// <inheritdoc />
    public void Dispose()
    {
        LastHiddenState.Dispose();
        PoolerOutput?.Dispose();
        foreach (var a in Attentions ?? []) a.Dispose();
        foreach (var h in HiddenStates ?? []) if (!ReferenceEquals(h, LastHiddenState)) h.Dispose();
    }
}

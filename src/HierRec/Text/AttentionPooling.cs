using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HierRec.Text;

/// <summary>
/// Learned attention pooling: a query vector q attends over the token vectors, α = softmax(h q / √H) over non-padding
/// tokens, and the result is Σ α_t h_t. q (<c>query</c>) starts at zero, so a new pooling equals the masked mean.
/// </summary>
public sealed class AttentionPooling : nn.Module<Tensor, Tensor, Tensor>
{
    /// <summary>Registers nothing by reflection: the constructor registers every component by name (<see cref="Training.TorchCheckpoint.State"/> says why).</summary>
    protected override void RegisterComponents() { }

    /// <summary>Creates the pooling for <paramref name="hidden"/>-wide token vectors.</summary>
    public AttentionPooling(int hidden) : base(nameof(AttentionPooling))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hidden);
        Hidden = hidden;
        register_parameter("query", new Parameter(torch.zeros(hidden))); // (H)
    }

    /// <summary>Width of the token vectors.</summary>
    public int Hidden { get; }

    /// <summary>The learned query (H).</summary>
    public Parameter Query => get_parameter("query")!;

    /// <summary>hidden (B, T, H), mask (B, T) → (B, H).</summary>
    public override Tensor forward(Tensor hidden, Tensor mask)
    {
        var (pooled, weights) = PoolWithWeights(hidden, mask);
        weights.Dispose();
        return pooled;
    }

    /// <summary>The pooled vectors (B, H) and the (B, T) attention weights.</summary>
    public (Tensor Pooled, Tensor Weights) PoolWithWeights(Tensor hidden, Tensor mask)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        ArgumentNullException.ThrowIfNull(mask);
        if (hidden.dim() != 3 || hidden.shape[2] != Hidden)
            throw new ArgumentException($"AttentionPooling({Hidden}) needs (batch, length, {Hidden}); got {TorchInterop.ShapeString(hidden.shape)}.", nameof(hidden));
        using var scope = torch.NewDisposeScope();
        var scores = hidden.matmul(Query).OverInPlace(Math.Sqrt(Hidden));                      // (B, T)
        scores = scores.FilledWhere(mask.detach().EqualTo(0), double.NegativeInfinity);
        var weights = scores.softmax(-1).nan_to_num(0);                                  // (B, T); empty rows → 0
        var pooled = weights.unsqueeze(1).bmm(hidden).squeeze(1);                        // (B, H)
        return (pooled.MoveToOuterDisposeScope(), weights.detach().MoveToOuterDisposeScope());
    }
}

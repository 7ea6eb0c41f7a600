using TorchSharp;
using static TorchSharp.torch;

namespace HierRec.Text;

/// <summary>Differentiable pooling functions over (batch, length, hidden) token vectors.</summary>
public static class BertPooling
{
    /// <summary>The first token of every row: (B, T, H) → (B, H).</summary>
    public static Tensor FirstToken(Tensor hidden)
    {
        Check(hidden);
        if (hidden.shape[1] == 0) throw new ArgumentException("Cannot take the first token of empty rows.", nameof(hidden));
        return hidden.select(1, 0);
    }

    /// <summary>The mean over tokens whose mask is 1: (B, T, H), mask (B, T) → (B, H). Rows with no token give zeros.</summary>
    public static Tensor MaskedMean(Tensor hidden, Tensor mask)
    {
        Check(hidden);
        ArgumentNullException.ThrowIfNull(mask);
        if (mask.dim() != 2 || mask.shape[0] != hidden.shape[0] || mask.shape[1] != hidden.shape[1])
            throw new ArgumentException($"mask {TorchInterop.ShapeString(mask.shape)} does not match hidden {TorchInterop.ShapeString(hidden.shape)}.", nameof(mask));
        using var scope = torch.NewDisposeScope();
        var m = mask.detach().to_type(hidden.dtype);                 // (B, T)
        var summed = (hidden * m.unsqueeze(-1)).sum(1);               // (B, H)
        var count = m.sum(1, keepdim: true).AtLeast(1L);             // (B, 1)
        return (summed / count).MoveToOuterDisposeScope();
    }

    /// <summary>Pools with <paramref name="kind"/>; <paramref name="attention"/> is needed for <see cref="PoolingKind.Attention"/>.</summary>
    /// <exception cref="InvalidOperationException">The pooling needs a module that is missing.</exception>
    public static Tensor Pool(PoolingKind kind, Tensor hidden, Tensor mask, BertPooler? pooler = null, AttentionPooling? attention = null) => kind switch
    {
        PoolingKind.Cls => FirstToken(hidden),
        PoolingKind.Mean => MaskedMean(hidden, mask),
        PoolingKind.Attention => (attention ?? throw new InvalidOperationException("Attention pooling needs an AttentionPooling module.")).forward(hidden, mask),
        PoolingKind.Pooler => (pooler ?? throw new InvalidOperationException("This model has no pooler (it was created or loaded without one).")).forward(hidden),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown pooling."),
    };

    private static void Check(Tensor hidden)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        if (hidden.dim() != 3) throw new ArgumentException($"Pooling needs (batch, length, hidden); got {TorchInterop.ShapeString(hidden.shape)}.", nameof(hidden));
    }
}

using HierRec.Tensors;
using HierRec.Tensors.Layers;
using HierRec.Text;

namespace HierRec.Text.Legacy;

/// <summary>Differentiable pooling functions over (batch, length, hidden) token vectors.</summary>
public static class BertPooling
{
    /// <summary>The first token of every row: (B, T, H) → (B, H).</summary>
    public static Tensor FirstToken(Tensor hidden)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        if (hidden.Rank != 3) throw new ArgumentException($"Pooling needs (batch, length, hidden); got {Tensor.ShapeString(hidden.Shape)}.", nameof(hidden));
        int b = hidden.Dim(0), t = hidden.Dim(1), h = hidden.Dim(2);
        if (t == 0) throw new ArgumentException("Cannot take the first token of empty rows.", nameof(hidden));
        var rows = new int[b];
        for (int i = 0; i < b; i++) rows[i] = i * t;
        return Ops.Embedding(Ops.Reshape(hidden, b * t, h), rows, b);
    }

    /// <summary>The mean over tokens whose mask is 1: (B, T, H), mask (B, T) → (B, H). Rows with no token give zeros.</summary>
    public static Tensor MaskedMean(Tensor hidden, Tensor mask)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        ArgumentNullException.ThrowIfNull(mask);
        if (hidden.Rank != 3) throw new ArgumentException($"Pooling needs (batch, length, hidden); got {Tensor.ShapeString(hidden.Shape)}.", nameof(hidden));
        int b = hidden.Dim(0), t = hidden.Dim(1);
        if (mask.Length != b * t) throw new ArgumentException($"mask {Tensor.ShapeString(mask.Shape)} does not match hidden {Tensor.ShapeString(hidden.Shape)}.", nameof(mask));
        var inverse = new Tensor(b, 1);
        var m = mask.Data;
        for (int r = 0; r < b; r++)
        {
            float count = 0;
            for (int i = 0; i < t; i++) count += m[r * t + i];
            inverse.Data[r] = count > 0 ? 1f / count : 0f;
        }
        var summed = Ops.Sum(hidden * Ops.Reshape(mask.Detach(), b, t, 1), 1); // (B, H)
        return summed * inverse;
    }

    /// <summary>Pools with <paramref name="kind"/>; <paramref name="attention"/> is needed for <see cref="PoolingKind.Attention"/>.</summary>
    /// <exception cref="InvalidOperationException">The pooling needs a module that is missing.</exception>
    public static Tensor Pool(PoolingKind kind, Tensor hidden, Tensor mask, BertPooler? pooler = null, AttentionPooling? attention = null) => kind switch
    {
        PoolingKind.Cls => FirstToken(hidden),
        PoolingKind.Mean => MaskedMean(hidden, mask),
        PoolingKind.Attention => (attention ?? throw new InvalidOperationException("Attention pooling needs an AttentionPooling module.")).Forward(hidden, mask, out _),
        PoolingKind.Pooler => (pooler ?? throw new InvalidOperationException("This model has no pooler (it was created or loaded without one).")).Forward(hidden),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown pooling."),
    };
}

/// <summary>
/// Learned attention pooling: a query vector q attends over the token vectors, α = softmax(h q / √H) over non-padding
/// tokens, and the result is Σ α_t h_t. q starts at zero, so a new pooling equals the masked mean.
/// </summary>
public sealed class AttentionPooling : Module
{
    /// <summary>Creates the pooling for <paramref name="hidden"/>-wide token vectors.</summary>
    public AttentionPooling(int hidden)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hidden);
        Hidden = hidden;
        Query = RegisterParameter("query", Tensor.Zeros(hidden)); // (H)
    }

    /// <summary>Width of the token vectors.</summary>
    public int Hidden { get; }

    /// <summary>The learned query (H).</summary>
    public Tensor Query { get; }

    /// <summary>hidden (B, T, H), mask (B, T) → (B, H); <paramref name="weights"/> are the (B, T) attention weights.</summary>
    public Tensor Forward(Tensor hidden, Tensor mask, out Tensor weights)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        ArgumentNullException.ThrowIfNull(mask);
        if (hidden.Rank != 3 || hidden.Dim(2) != Hidden)
            throw new ArgumentException($"AttentionPooling({Hidden}) needs (batch, length, {Hidden}); got {Tensor.ShapeString(hidden.Shape)}.", nameof(hidden));
        int b = hidden.Dim(0), t = hidden.Dim(1);
        var q = Tensor.Zeros(b, 1, Hidden) + Query;
        var pooled = Ops.Attention(q, hidden, hidden, 1, Ops.Reshape(mask.Detach(), b, t), out var probabilities, keepProbabilities: true);
        weights = Ops.Reshape(probabilities!.Detach(), b, t);
        return Ops.Reshape(pooled, b, Hidden);
    }
}

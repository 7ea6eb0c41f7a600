namespace HierRec.Tensors.Layers;

/// <summary>
/// Multi-head attention with separate query, key, value and output projections (BERT's layout).
/// </summary>
public sealed class MultiHeadAttention : Module
{
    /// <summary>Creates the block for <paramref name="dim"/> channels split into <paramref name="heads"/> heads.</summary>
    public MultiHeadAttention(int dim, int heads, Rng rng, float attentionDropout = 0f, float? initStd = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(heads);
        if (dim % heads != 0) throw new ArgumentException($"dim {dim} is not divisible by heads {heads}.", nameof(heads));
        Heads = heads;
        Query = RegisterModule("query", new Linear(dim, dim, rng, initStd: initStd));
        Key = RegisterModule("key", new Linear(dim, dim, rng, initStd: initStd));
        Value = RegisterModule("value", new Linear(dim, dim, rng, initStd: initStd));
        Output = RegisterModule("output", new Linear(dim, dim, rng, initStd: initStd));
        if (attentionDropout < 0f || attentionDropout >= 1f) throw new ArgumentOutOfRangeException(nameof(attentionDropout), attentionDropout, "Dropout probability must be in [0, 1).");
        AttentionDropout = attentionDropout;
        _rng = attentionDropout > 0f ? rng.Fork() : null; // no fork without dropout: initialisation streams stay as they were
    }

    private readonly Rng? _rng;

    /// <summary>Number of heads.</summary>
    public int Heads { get; }

    /// <summary>Dropout on the attention probabilities, applied in training mode.</summary>
    public float AttentionDropout { get; }

    /// <summary>Query projection.</summary>
    public Linear Query { get; }

    /// <summary>Key projection.</summary>
    public Linear Key { get; }

    /// <summary>Value projection.</summary>
    public Linear Value { get; }

    /// <summary>Output projection.</summary>
    public Linear Output { get; }

    /// <summary>Self-attention over x (B, T, C) with a key padding mask (B, T) of 1/0, or null.</summary>
    public Tensor Forward(Tensor x, Tensor? keyMask = null) => Forward(x, x, keyMask, out _, keepProbabilities: false);

    /// <summary>Attention from <paramref name="query"/> (B, Tq, C) to <paramref name="context"/> (B, Tk, C).</summary>
    /// <param name="query">Queries.</param>
    /// <param name="context">Keys and values.</param>
    /// <param name="keyMask">(B, Tk) 1 for valid keys, 0 for padding; or null.</param>
    /// <param name="probabilities">The (B, heads, Tq, Tk) attention weights when <paramref name="keepProbabilities"/>.</param>
    /// <param name="keepProbabilities">Whether to return the attention weights (for explanations).</param>
    public Tensor Forward(Tensor query, Tensor context, Tensor? keyMask, out Tensor? probabilities, bool keepProbabilities = true)
    {
        var q = Query.Forward(query);
        var k = Key.Forward(context);
        var v = Value.Forward(context);
        var a = Ops.Attention(q, k, v, Heads, keyMask, out probabilities, keepProbabilities, IsTraining ? AttentionDropout : 0f, _rng);
        return Output.Forward(a);
    }
}

/// <summary>
/// A post-LN transformer encoder layer with a GELU feed-forward network, as in BERT and
/// <c>torch.nn.TransformerEncoderLayer(norm_first=False, activation="gelu")</c>:
/// h = LN₁(x + Drop(MHA(x))); y = LN₂(h + Drop(W₂ GELU(W₁ h))).
/// </summary>
public sealed class TransformerEncoderLayer : Module
{
    /// <summary>Creates the layer.</summary>
    /// <param name="dim">Channels.</param>
    /// <param name="heads">Attention heads.</param>
    /// <param name="feedForward">Hidden size of the feed-forward block.</param>
    /// <param name="rng">Initialisation and dropout generator.</param>
    /// <param name="dropout">Residual (hidden) dropout.</param>
    /// <param name="layerNormEps">LayerNorm ε.</param>
    /// <param name="initStd">N(0, initStd) initialisation, or PyTorch's default when null.</param>
    /// <param name="attentionDropout">Dropout on the attention probabilities (BERT: 0.1). Default 0.</param>
    public TransformerEncoderLayer(int dim, int heads, int feedForward, Rng rng, float dropout = 0.1f, float layerNormEps = 1e-12f, float? initStd = null, float attentionDropout = 0f)
    {
        ArgumentNullException.ThrowIfNull(rng);
        Attention = RegisterModule("attention", new MultiHeadAttention(dim, heads, rng, attentionDropout, initStd));
        Norm1 = RegisterModule("norm1", new LayerNorm(dim, layerNormEps));
        Linear1 = RegisterModule("linear1", new Linear(dim, feedForward, rng, initStd: initStd));
        Linear2 = RegisterModule("linear2", new Linear(feedForward, dim, rng, initStd: initStd));
        Norm2 = RegisterModule("norm2", new LayerNorm(dim, layerNormEps));
        Dropout = RegisterModule("dropout", new Dropout(dropout, rng));
    }

    /// <summary>Self-attention block.</summary>
    public MultiHeadAttention Attention { get; }

    /// <summary>Norm after attention.</summary>
    public LayerNorm Norm1 { get; }

    /// <summary>Feed-forward expansion (dim → ff).</summary>
    public Linear Linear1 { get; }

    /// <summary>Feed-forward projection (ff → dim).</summary>
    public Linear Linear2 { get; }

    /// <summary>Norm after the feed-forward block.</summary>
    public LayerNorm Norm2 { get; }

    /// <summary>Residual dropout.</summary>
    public Dropout Dropout { get; }

    /// <summary>x (B, T, C), keyMask (B, T) of 1/0 or null → (B, T, C).</summary>
    public Tensor Forward(Tensor x, Tensor? keyMask = null) => Forward(x, keyMask, out _, keepProbabilities: false);

    /// <summary>As <see cref="Forward(Tensor, Tensor?)"/>, optionally returning the attention weights (B, H, T, T).</summary>
    public Tensor Forward(Tensor x, Tensor? keyMask, out Tensor? attentionProbabilities, bool keepProbabilities = true)
    {
        var a = Attention.Forward(x, x, keyMask, out attentionProbabilities, keepProbabilities);
        var h = Norm1.Forward(x + Dropout.Forward(a));
        var f = Linear2.Forward(Ops.Gelu(Linear1.Forward(h)));
        return Norm2.Forward(h + Dropout.Forward(f));
    }
}

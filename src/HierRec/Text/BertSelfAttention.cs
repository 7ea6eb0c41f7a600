using TorchSharp;
using static TorchSharp.torch;

namespace HierRec.Text;

/// <summary>Query, key and value projections and multi-head scaled dot-product attention (<c>attention.self.*</c>).</summary>
/// <remarks>
/// Without attention weights requested it runs libtorch's fused <c>scaled_dot_product_attention</c>; with them, the
/// same computation written out (softmax(QKᵀ/√d + mask) V), so the weights can be returned for explanations.
/// </remarks>
public sealed class BertSelfAttention : nn.Module<Tensor, Tensor, Tensor>
{
    /// <summary>Registers nothing by reflection: the constructor registers every component by name (<see cref="Training.TorchCheckpoint.State"/> says why).</summary>
    protected override void RegisterComponents() { }

    /// <summary>Creates the projections.</summary>
    public BertSelfAttention(BertConfig config, Generator? generator = null) : base(nameof(BertSelfAttention))
    {
        ArgumentNullException.ThrowIfNull(config);
        int h = config.HiddenSize;
        Heads = config.NumAttentionHeads;
        HeadSize = h / Heads;
        AttentionDropout = config.AttentionProbsDropoutProb;
        Query = new LoraLinear(h, h, config.InitializerRange, generator);
        Key = new LoraLinear(h, h, config.InitializerRange, generator);
        Value = new LoraLinear(h, h, config.InitializerRange, generator);
        register_module("query", Query);
        register_module("key", Key);
        register_module("value", Value);
    }

    /// <summary>Heads.</summary>
    public int Heads { get; }

    /// <summary>Width of one head.</summary>
    public int HeadSize { get; }

    /// <summary>Dropout on attention probabilities (training mode only).</summary>
    public double AttentionDropout { get; }

    /// <summary>Query projection (a LoRA target).</summary>
    public LoraLinear Query { get; }

    /// <summary>Key projection.</summary>
    public LoraLinear Key { get; }

    /// <summary>Value projection (a LoRA target).</summary>
    public LoraLinear Value { get; }

    /// <summary>x (B, T, H), additive mask bias (B, 1, 1, T) → context (B, T, H).</summary>
    public override Tensor forward(Tensor x, Tensor maskBias) => Attend(x, maskBias, withProbabilities: false).Context;

    /// <summary>As <see cref="forward"/>, returning the (B, heads, T, T) weights too when <paramref name="withProbabilities"/>.</summary>
    public AttentionResult Attend(Tensor x, Tensor maskBias, bool withProbabilities)
    {
        using var scope = torch.NewDisposeScope();
        long b = x.shape[0], t = x.shape[1];
        Tensor Split(Tensor y) => y.view(b, t, Heads, HeadSize).transpose(1, 2); // (B, heads, T, d)
        var q = Split(Query.forward(x));
        var k = Split(Key.forward(x));
        var v = Split(Value.forward(x));
        double dropout = training ? AttentionDropout : 0;
        Tensor context;
        Tensor? probabilities = null;
        if (!withProbabilities)
        {
            context = nn.functional.scaled_dot_product_attention(q, k, v, maskBias, dropout, false);
        }
        else
        {
            var scores = q.matmul(k.transpose(-1, -2)).OverInPlace(Math.Sqrt(HeadSize)).PlusInPlace(maskBias); // (B, heads, T, T)
            probabilities = scores.softmax(-1);
            var dropped = dropout > 0 ? nn.functional.dropout(probabilities, dropout, true) : probabilities;
            context = dropped.matmul(v);
        }
        var merged = context.transpose(1, 2).reshape(b, t, Heads * HeadSize);
        return new AttentionResult(merged.MoveToOuterDisposeScope(), probabilities?.MoveToOuterDisposeScope());
    }
}

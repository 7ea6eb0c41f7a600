using TorchSharp;
using static TorchSharp.torch;

namespace HierRec.Text;

/// <summary>One post-LN encoder layer (<c>encoder.layer.N.*</c>).</summary>
public sealed class BertLayer : nn.Module<Tensor, Tensor, Tensor>
{
    /// <summary>Registers nothing by reflection: the constructor registers every component by name (<see cref="Training.TorchCheckpoint.State"/> says why).</summary>
    protected override void RegisterComponents() { }

    /// <summary>Creates the layer.</summary>
    public BertLayer(BertConfig config, Generator? generator = null) : base(nameof(BertLayer))
    {
        ArgumentNullException.ThrowIfNull(config);
        Attention = new BertAttention(config, generator);
        Intermediate = new BertIntermediate(config, generator);
        Output = new BertResidualOutput(config, config.IntermediateSize, generator);
        register_module("attention", Attention);
        register_module("intermediate", Intermediate);
        register_module("output", Output);
    }

    /// <summary>Attention block.</summary>
    public BertAttention Attention { get; }

    /// <summary>Feed-forward expansion.</summary>
    public BertIntermediate Intermediate { get; }

    /// <summary>Feed-forward projection, residual and norm.</summary>
    public BertResidualOutput Output { get; }

    /// <summary>x (B, T, H), mask bias (B, 1, 1, T) → (B, T, H).</summary>
    public override Tensor forward(Tensor x, Tensor maskBias) => Attend(x, maskBias, false).Context;

    /// <summary>The layer's output and, when asked for, its attention weights (B, heads, T, T).</summary>
    public AttentionResult Attend(Tensor x, Tensor maskBias, bool withProbabilities)
    {
        var (h, probabilities) = Attention.Attend(x, maskBias, withProbabilities);
        using (h)
        using (var expanded = Intermediate.forward(h))
            return new AttentionResult(Output.forward(expanded, h), probabilities);
    }
}

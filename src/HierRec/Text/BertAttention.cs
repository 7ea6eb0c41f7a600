using TorchSharp;
using static TorchSharp.torch;

namespace HierRec.Text;

/// <summary>Self-attention and its output block (<c>attention.*</c>).</summary>
public sealed class BertAttention : nn.Module<Tensor, Tensor, Tensor>
{
    /// <summary>Registers nothing by reflection: the constructor registers every component by name (<see cref="Training.TorchCheckpoint.State"/> says why).</summary>
    protected override void RegisterComponents() { }

    /// <summary>Creates the block.</summary>
    public BertAttention(BertConfig config, Generator? generator = null) : base(nameof(BertAttention))
    {
        ArgumentNullException.ThrowIfNull(config);
        Self = new BertSelfAttention(config, generator);
        Output = new BertResidualOutput(config, config.HiddenSize, generator);
        register_module("self", Self);
        register_module("output", Output);
    }

    /// <summary>Q, K, V and attention.</summary>
    public BertSelfAttention Self { get; }

    /// <summary>Output projection, residual and norm.</summary>
    public BertResidualOutput Output { get; }

    /// <summary>x (B, T, H), mask bias (B, 1, 1, T) → (B, T, H).</summary>
    public override Tensor forward(Tensor x, Tensor maskBias) => Attend(x, maskBias, false).Context;

    /// <summary>The block's output and, when asked for, the attention weights.</summary>
    public AttentionResult Attend(Tensor x, Tensor maskBias, bool withProbabilities)
    {
        var (context, probabilities) = Self.Attend(x, maskBias, withProbabilities);
        using (context) return new AttentionResult(Output.forward(context, x), probabilities);
    }
}

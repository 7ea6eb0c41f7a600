using TorchSharp;
using static TorchSharp.torch;

namespace HierRec.Text;

/// <summary>The feed-forward expansion with (exact, erf) GELU (<c>intermediate.dense</c>).</summary>
public sealed class BertIntermediate : nn.Module<Tensor, Tensor>
{
    /// <summary>Registers nothing by reflection: the constructor registers every component by name (<see cref="Training.TorchCheckpoint.State"/> says why).</summary>
    protected override void RegisterComponents() { }

    /// <summary>Creates dense (H → I).</summary>
    public BertIntermediate(BertConfig config, Generator? generator = null) : base(nameof(BertIntermediate))
    {
        ArgumentNullException.ThrowIfNull(config);
        Dense = new LoraLinear(config.HiddenSize, config.IntermediateSize, config.InitializerRange, generator);
        register_module("dense", Dense);
    }

    /// <summary>The expansion.</summary>
    public LoraLinear Dense { get; }

    /// <summary>GELU(Dense(x)).</summary>
    public override Tensor forward(Tensor x)
    {
        using var h = Dense.forward(x);
        return nn.functional.gelu(h);
    }
}

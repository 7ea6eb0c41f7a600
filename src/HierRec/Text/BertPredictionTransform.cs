using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HierRec.Text;

/// <summary>The transform of the masked-LM head: LayerNorm(GELU(dense)) (<c>cls.predictions.transform.*</c>).</summary>
public sealed class BertPredictionTransform : nn.Module<Tensor, Tensor>
{
    /// <summary>Registers nothing by reflection: the constructor registers every component by name (<see cref="Training.TorchCheckpoint.State"/> says why).</summary>
    protected override void RegisterComponents() { }

    /// <summary>Creates dense (H → H) and LayerNorm.</summary>
    public BertPredictionTransform(BertConfig config, Generator? generator = null) : base(nameof(BertPredictionTransform))
    {
        ArgumentNullException.ThrowIfNull(config);
        Dense = new LoraLinear(config.HiddenSize, config.HiddenSize, config.InitializerRange, generator);
        LayerNorm = nn.LayerNorm([config.HiddenSize], config.LayerNormEps);
        register_module("dense", Dense);
        register_module("LayerNorm", LayerNorm);
    }

    /// <summary>The projection.</summary>
    public LoraLinear Dense { get; }

    /// <summary>The norm.</summary>
    public LayerNorm LayerNorm { get; }

    /// <summary>(…, H) → (…, H).</summary>
    public override Tensor forward(Tensor h)
    {
        using var d = Dense.forward(h);
        using var g = nn.functional.gelu(d);
        return LayerNorm.forward(g);
    }
}

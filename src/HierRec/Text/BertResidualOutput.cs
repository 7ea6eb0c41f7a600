using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HierRec.Text;

/// <summary>Dense projection, dropout, residual and LayerNorm (<c>attention.output.*</c> and <c>output.*</c>).</summary>
public sealed class BertResidualOutput : nn.Module<Tensor, Tensor, Tensor>
{
    /// <summary>Registers nothing by reflection: the constructor registers every component by name (<see cref="Training.TorchCheckpoint.State"/> says why).</summary>
    protected override void RegisterComponents() { }

    /// <summary>Creates dense (in → H), LayerNorm and dropout.</summary>
    public BertResidualOutput(BertConfig config, int inFeatures, Generator? generator = null) : base(nameof(BertResidualOutput))
    {
        ArgumentNullException.ThrowIfNull(config);
        Dense = new LoraLinear(inFeatures, config.HiddenSize, config.InitializerRange, generator);
        LayerNorm = nn.LayerNorm([config.HiddenSize], config.LayerNormEps);
        Dropout = nn.Dropout(config.HiddenDropoutProb);
        register_module("dense", Dense);
        register_module("LayerNorm", LayerNorm);
        register_module("dropout", Dropout);
    }

    /// <summary>The projection.</summary>
    public LoraLinear Dense { get; }

    /// <summary>Post-residual norm.</summary>
    public LayerNorm LayerNorm { get; }

    /// <summary>Hidden dropout.</summary>
    public Dropout Dropout { get; }

    /// <summary>LayerNorm(Dropout(Dense(h)) + residual).</summary>
    public override Tensor forward(Tensor h, Tensor residual)
    {
        using var scope = torch.NewDisposeScope();
        return LayerNorm.forward(Dropout.forward(Dense.forward(h)).Plus(residual)).MoveToOuterDisposeScope();
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace HierRec.Text;

/// <summary>Hugging Face's pooler: tanh(Dense(h[CLS])) (<c>pooler.dense</c>).</summary>
public sealed class BertPooler : nn.Module<Tensor, Tensor>
{
    /// <summary>Registers nothing by reflection: the constructor registers every component by name (<see cref="Training.TorchCheckpoint.State"/> says why).</summary>
    protected override void RegisterComponents() { }

    /// <summary>Creates dense (H → H).</summary>
    public BertPooler(BertConfig config, Generator? generator = null) : base(nameof(BertPooler))
    {
        ArgumentNullException.ThrowIfNull(config);
        Dense = new LoraLinear(config.HiddenSize, config.HiddenSize, config.InitializerRange, generator);
        register_module("dense", Dense);
    }

    /// <summary>The projection.</summary>
    public LoraLinear Dense { get; }

    /// <summary>hidden (B, T, H) → (B, H).</summary>
    public override Tensor forward(Tensor hidden)
    {
        using var first = BertPooling.FirstToken(hidden);
        using var projected = Dense.forward(first);
        return projected.tanh();
    }
}

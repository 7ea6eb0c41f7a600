using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HierRec.Text;

/// <summary>Transform plus the output bias (<c>cls.predictions.*</c>).</summary>
public sealed class BertLMPredictionHead : nn.Module
{
    /// <summary>Registers nothing by reflection: the constructor registers every component by name (<see cref="Training.TorchCheckpoint.State"/> says why).</summary>
    protected override void RegisterComponents() { }

    /// <summary>Creates the head.</summary>
    public BertLMPredictionHead(BertConfig config, Generator? generator = null) : base(nameof(BertLMPredictionHead))
    {
        ArgumentNullException.ThrowIfNull(config);
        Transform = new BertPredictionTransform(config, generator);
        register_module("transform", Transform);
        register_parameter("bias", new Parameter(torch.zeros(config.VocabSize))); // (vocab)
    }

    /// <summary>The transform.</summary>
    public BertPredictionTransform Transform { get; }

    /// <summary>(vocab) output bias.</summary>
    public Parameter Bias => get_parameter("bias")!;
}

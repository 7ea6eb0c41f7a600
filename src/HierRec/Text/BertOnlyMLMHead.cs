using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HierRec.Text;

/// <summary>
/// The <c>cls</c> module of Hugging Face's BertForMaskedLM: <c>cls.predictions.transform.*</c> and the output
/// <c>cls.predictions.bias</c> (vocab); the decoder weight is tied to the word embeddings.
/// </summary>
public sealed class BertOnlyMLMHead : nn.Module
{
    /// <summary>Registers nothing by reflection: the constructor registers every component by name (<see cref="Training.TorchCheckpoint.State"/> says why).</summary>
    protected override void RegisterComponents() { }

    /// <summary>Creates the head.</summary>
    public BertOnlyMLMHead(BertConfig config, Generator? generator = null) : base(nameof(BertOnlyMLMHead))
    {
        ArgumentNullException.ThrowIfNull(config);
        Predictions = new BertLMPredictionHead(config, generator);
        register_module("predictions", Predictions);
    }

    /// <summary>The prediction head.</summary>
    public BertLMPredictionHead Predictions { get; }
}

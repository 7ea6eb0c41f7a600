using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HierRec.Text;

/// <summary>The transform of the masked-LM head: LayerNorm(GELU(dense)) (<c>cls.predictions.transform.*</c>).</summary>
public sealed class BertPredictionTransform : nn.Module<Tensor, Tensor>
{
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

/// <summary>
/// The <c>cls</c> module of Hugging Face's BertForMaskedLM: <c>cls.predictions.transform.*</c> and the output
/// <c>cls.predictions.bias</c> (vocab); the decoder weight is tied to the word embeddings.
/// </summary>
public sealed class BertOnlyMLMHead : nn.Module
{
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

/// <summary>Transform plus the output bias (<c>cls.predictions.*</c>).</summary>
public sealed class BertLMPredictionHead : nn.Module
{
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

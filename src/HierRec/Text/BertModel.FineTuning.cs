using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HierRec.Text;

public sealed partial class BertModel
{
    /// <summary>The fine-tuning mode last applied with <see cref="ApplyFineTuning"/> (Full for a new model).</summary>
    public BertFineTuning FineTuning { get; private set; } = BertFineTuning.Full;

    /// <summary>Whether LoRA adapters are attached.</summary>
    public bool HasLora => Encoder.Layer.Any(l => l.Attention.Self.Query.HasLora || l.Attention.Self.Value.HasLora);

    /// <summary>
    /// Sets which parameters train: all (<see cref="BertFineTuning.Full"/>), none (<see cref="BertFineTuning.Frozen"/>),
    /// everything above the embeddings and the bottom N layers (<see cref="BertFineTuning.FreezeBottom"/>), or LoRA
    /// adapters on every layer's query and value projections with everything else frozen (<see cref="BertFineTuning.Lora"/>).
    /// Create the optimizer after this call (from <see cref="TrainableParameters"/>), so frozen parameters get no state.
    /// </summary>
    /// <exception cref="InvalidOperationException">LoRA is requested while adapters are attached; merge them first.</exception>
    public void ApplyFineTuning(BertFineTuning mode)
    {
        ArgumentNullException.ThrowIfNull(mode);
        if (HasLora && mode.Kind != FineTuningKind.Lora)
            throw new InvalidOperationException("LoRA adapters are attached; call MergeLora() before switching to another fine-tuning mode.");
        switch (mode.Kind)
        {
            case FineTuningKind.Full:
                SetTrainable(this, true);
                break;
            case FineTuningKind.Frozen:
                SetTrainable(this, false);
                break;
            case FineTuningKind.FreezeBottom:
                if (mode.FrozenLayers > Config.NumHiddenLayers)
                    throw new ArgumentOutOfRangeException(nameof(mode), $"Cannot freeze {mode.FrozenLayers} layers of a {Config.NumHiddenLayers}-layer model.");
                SetTrainable(this, true);
                SetTrainable(Embeddings, false);
                for (int i = 0; i < mode.FrozenLayers; i++) SetTrainable(Encoder.Layer[i], false);
                break;
            case FineTuningKind.Lora:
                if (HasLora) throw new InvalidOperationException("LoRA adapters are already attached.");
                SetTrainable(this, false);
                using (var generator = new Generator((ulong)(Seed ^ 0x10AA)))
                {
                    foreach (var layer in Encoder.Layer)
                    {
                        layer.Attention.Self.Query.AddLora(mode.LoraRank, mode.LoraAlpha, generator);
                        layer.Attention.Self.Value.AddLora(mode.LoraRank, mode.LoraAlpha, generator);
                    }
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(mode), mode.Kind, "Unknown fine-tuning mode.");
        }
        FineTuning = mode;
    }

    /// <summary>The parameters that train under the current mode, with their Hugging Face names.</summary>
    public IEnumerable<(string Name, Parameter Parameter)> TrainableParameters() =>
        named_parameters().Where(p => p.parameter.requires_grad);

    /// <summary>Folds every LoRA adapter into its base weight (W += α/r · B A) and removes the adapters; outputs are unchanged.</summary>
    public void MergeLora()
    {
        foreach (var layer in Encoder.Layer)
        {
            if (layer.Attention.Self.Query.HasLora) layer.Attention.Self.Query.MergeLora();
            if (layer.Attention.Self.Value.HasLora) layer.Attention.Self.Value.MergeLora();
        }
        SetTrainable(this, false);
        FineTuning = BertFineTuning.Frozen;
    }

    internal static void SetTrainable(nn.Module module, bool trainable)
    {
        foreach (var p in module.parameters()) p.requires_grad = trainable;
    }

    internal static bool IsLoraName(string name) =>
        name.EndsWith(".lora_A", StringComparison.Ordinal) || name.EndsWith(".lora_B", StringComparison.Ordinal);
}

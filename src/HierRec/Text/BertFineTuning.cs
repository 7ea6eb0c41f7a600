namespace HierRec.Text;

/// <summary>A BERT fine-tuning mode, for <see cref="BertModel.ApplyFineTuning"/> and the fine-tuners built on it.</summary>
public sealed record BertFineTuning
{
    private BertFineTuning(FineTuningKind kind, int frozenLayers = 0, int loraRank = 0, float loraAlpha = 0)
    {
        Kind = kind;
        FrozenLayers = frozenLayers;
        LoraRank = loraRank;
        LoraAlpha = loraAlpha;
    }

    /// <summary>The mode.</summary>
    public FineTuningKind Kind { get; }

    /// <summary>For <see cref="FineTuningKind.FreezeBottom"/>: how many bottom layers are frozen (with the embeddings).</summary>
    public int FrozenLayers { get; }

    /// <summary>For <see cref="FineTuningKind.Lora"/>: adapter rank r.</summary>
    public int LoraRank { get; }

    /// <summary>For <see cref="FineTuningKind.Lora"/>: scale numerator α (the update is α/r · B A).</summary>
    public float LoraAlpha { get; }

    /// <summary>Train everything.</summary>
    public static BertFineTuning Full { get; } = new(FineTuningKind.Full);

    /// <summary>Train nothing in BERT.</summary>
    public static BertFineTuning Frozen { get; } = new(FineTuningKind.Frozen);

    /// <summary>Freeze the embeddings and the bottom <paramref name="layers"/> layers.</summary>
    public static BertFineTuning FreezeBottom(int layers)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(layers);
        return new(FineTuningKind.FreezeBottom, frozenLayers: layers);
    }

    /// <summary>LoRA of rank <paramref name="rank"/> and scale <paramref name="alpha"/> on query and value.</summary>
    public static BertFineTuning Lora(int rank = 8, float alpha = 16f)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rank);
        if (!(alpha > 0)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "LoRA alpha must be positive.");
        return new(FineTuningKind.Lora, loraRank: rank, loraAlpha: alpha);
    }

    /// <inheritdoc/>
    public override string ToString() => Kind switch
    {
        FineTuningKind.FreezeBottom => $"FreezeBottom({FrozenLayers})",
        FineTuningKind.Lora => $"Lora(r={LoraRank}, alpha={LoraAlpha})",
        _ => Kind.ToString(),
    };
}

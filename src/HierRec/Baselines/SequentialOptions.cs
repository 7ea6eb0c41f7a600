namespace HierRec.Baselines;

/// <summary>
/// Options of the transformer sequence baselines <see cref="SasRec"/> and <see cref="Bert4Rec"/>; defaults are RecBole's
/// (2 layers, 2 heads, hidden 64, inner 256, GELU, LayerNorm ε 1e-12, N(0, 0.02) initialisation, full cross-entropy over
/// the catalogue, sequences of at most 50 items, Adam at 1e-3, batch 2048, 300 epochs, patience 10). The dropout default
/// is null: RecBole's 0.5 for SASRec and 0.2 for BERT4Rec.
/// </summary>
public sealed record SequentialOptions
{
    /// <summary>Transformer layers. Default 2.</summary>
    public int Layers { get; init; } = 2;

    /// <summary>Attention heads. Default 2.</summary>
    public int Heads { get; init; } = 2;

    /// <summary>Hidden size (item embeddings too). Default 64.</summary>
    public int Hidden { get; init; } = 64;

    /// <summary>Feed-forward inner size. Default 256.</summary>
    public int Inner { get; init; } = 256;

    /// <summary>Hidden and attention dropout; null: 0.5 for SASRec, 0.2 for BERT4Rec (RecBole's).</summary>
    public float? Dropout { get; init; }

    /// <summary>Longest item sequence read (RecBole's MAX_ITEM_LIST_LENGTH). Default 50.</summary>
    public int MaxLength { get; init; } = 50;

    /// <summary>BERT4Rec: the probability that an item is replaced by the mask token. Default 0.2.</summary>
    public float MaskRatio { get; init; } = 0.2f;

    /// <summary>BERT4Rec: the share of training sequences that mask only their last item (fine-tuning samples). Default 0.5.</summary>
    public float FineTuneRatio { get; init; } = 0.5f;

    /// <summary>Adam learning rate. Default 1e-3.</summary>
    public float LearningRate { get; init; } = 1e-3f;

    /// <summary>Training windows per step. Default 2048 / 50 ≈ 41 windows of up to 50 positions, so a step sees about RecBole's 2,048 targets.</summary>
    public int BatchSize { get; init; } = 41;

    /// <summary>Upper bound on epochs. Default 300.</summary>
    public int MaxEpochs { get; init; } = 300;

    /// <summary>Epochs without a better validation NDCG@10 before stopping. Default 10.</summary>
    public int Patience { get; init; } = 10;

    /// <summary>Epochs always run before early stopping may end training (at most MaxEpochs). Default 10.</summary>
    public int MinEpochs { get; init; } = 10;

    /// <summary>Seed of initialisation, shuffling, masking and dropout. Default 2020.</summary>
    public ulong Seed { get; init; } = 2020;

    internal void Validate()
    {
        OptionChecks.Range("SequentialOptions.Layers", Layers, 1, 64);
        OptionChecks.Range("SequentialOptions.Heads", Heads, 1, 64);
        OptionChecks.Range("SequentialOptions.Hidden", Hidden, 1, 1 << 14);
        if (Hidden % Heads != 0) throw new ArgumentOutOfRangeException("SequentialOptions.Heads", Heads, $"SequentialOptions.Heads ({Heads}) must divide Hidden ({Hidden}).");
        OptionChecks.Range("SequentialOptions.Inner", Inner, 1, 1 << 16);
        if (Dropout is { } d) OptionChecks.Range("SequentialOptions.Dropout", d, 0, 1, maxExclusive: true);
        OptionChecks.Range("SequentialOptions.MaxLength", MaxLength, 2, 4096);
        OptionChecks.Range("SequentialOptions.MaskRatio", MaskRatio, 0, 1, minExclusive: true);
        OptionChecks.Range("SequentialOptions.FineTuneRatio", FineTuneRatio, 0, 1);
        OptionChecks.Range("SequentialOptions.LearningRate", LearningRate, 0, 10, minExclusive: true);
        OptionChecks.Range("SequentialOptions.BatchSize", BatchSize, 1, 1 << 20);
        OptionChecks.Range("SequentialOptions.MaxEpochs", MaxEpochs, 1, 100_000);
        OptionChecks.Range("SequentialOptions.Patience", Patience, 1, 100_000);
        OptionChecks.Range("SequentialOptions.MinEpochs", MinEpochs, 0, 100_000);
    }
}

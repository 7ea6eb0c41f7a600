namespace HierRec.Baselines;

/// <summary>Options of <see cref="LightGcn"/>; defaults follow RecBole (64 dimensions, 3 layers, reg 1e-5, Adam 1e-3, batch 2048).</summary>
public sealed class LightGcnOptions
{
    /// <summary>Embedding size. Default 64.</summary>
    public int Dimension { get; init; } = 64;

    /// <summary>Propagation layers K. Default 3.</summary>
    public int Layers { get; init; } = 3;

    /// <summary>L2 weight on the batch's layer-0 embeddings (RecBole's reg_weight). Default 1e-5.</summary>
    public float RegWeight { get; init; } = 1e-5f;

    /// <summary>Adam learning rate. Default 1e-3.</summary>
    public float LearningRate { get; init; } = 1e-3f;

    /// <summary>Triples per step. Default 2048.</summary>
    public int BatchSize { get; init; } = 2048;

    /// <summary>Upper bound on epochs. Default 300.</summary>
    public int MaxEpochs { get; init; } = 300;

    /// <summary>Epochs without a better validation NDCG@10 before stopping. Default 10.</summary>
    public int Patience { get; init; } = 10;

    /// <summary>Epochs always run before early stopping may end training (an early validation peak is not the end); at most MaxEpochs. Default 20.</summary>
    public int MinEpochs { get; init; } = 20;

    /// <summary>Seed. Default 2020.</summary>
    public ulong Seed { get; init; } = 2020;

    /// <summary>Checks every option's range (called by Fit).</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it and its range.</exception>
    public void Validate()
    {
        OptionChecks.Range("LightGcnOptions.Dimension", Dimension, 1, Ranking.ItemIndex.MaxDimension);
        OptionChecks.Range("LightGcnOptions.Layers", Layers, 0, 16);
        OptionChecks.Range("LightGcnOptions.RegWeight", RegWeight, 0, 10);
        OptionChecks.Range("LightGcnOptions.LearningRate", LearningRate, 0, double.MaxValue, minExclusive: true);
        OptionChecks.Range("LightGcnOptions.BatchSize", BatchSize, 1, 1 << 24);
        OptionChecks.Range("LightGcnOptions.MaxEpochs", MaxEpochs, 1, 100_000);
        OptionChecks.Range("LightGcnOptions.Patience", Patience, 0, 100_000);
        OptionChecks.Range("LightGcnOptions.MinEpochs", MinEpochs, 0);
    }
}

namespace HierRec.Baselines;

/// <summary>
/// Options of <see cref="MultVae"/>; defaults are RecBole's MultiVAE (hidden 600, latent 128 split into mean and
/// log-variance halves, input dropout 0.5, KL anneal cap 0.2 over 200,000 steps, Adam at 1e-3, batches of 2,048
/// training interactions, 300 epochs, early stopping with patience 10).
/// </summary>
public sealed class MultVaeOptions
{
    /// <summary>Width of the encoder's and decoder's hidden layer. Default 600.</summary>
    public int Hidden { get; init; } = 600;

    /// <summary>Encoder output width; its first half is the mean, its second the log-variance (RecBole's convention). Default 128.</summary>
    public int Latent { get; init; } = 128;

    /// <summary>Dropout on the normalised input rows. Default 0.5.</summary>
    public float Dropout { get; init; } = 0.5f;

    /// <summary>Largest weight β of the KL term. Default 0.2.</summary>
    public float AnnealCap { get; init; } = 0.2f;

    /// <summary>Steps over which β grows linearly from 0 to <see cref="AnnealCap"/> (0: β = cap from the start). Default 200,000.</summary>
    public int AnnealSteps { get; init; } = 200_000;

    /// <summary>Adam learning rate. Default 1e-3.</summary>
    public float LearningRate { get; init; } = 1e-3f;

    /// <summary>Training interactions per step; each contributes its user's row, so active users weigh more, as in RecBole. Default 2048.</summary>
    public int BatchSize { get; init; } = 2048;

    /// <summary>Upper bound on epochs. Default 300.</summary>
    public int MaxEpochs { get; init; } = 300;

    /// <summary>Epochs without a better validation NDCG@10 before stopping. Default 10.</summary>
    public int Patience { get; init; } = 10;

    /// <summary>Epochs always run before early stopping may end training (at most MaxEpochs). Default 10.</summary>
    public int MinEpochs { get; init; } = 10;

    /// <summary>Seed of initialisation, shuffling, dropout and the reparameterisation noise. Default 2020.</summary>
    public ulong Seed { get; init; } = 2020;

    internal void Validate()
    {
        OptionChecks.Range("MultVaeOptions.Hidden", Hidden, 1, 1 << 16);
        OptionChecks.Range("MultVaeOptions.Latent", Latent, 2, 1 << 16);
        if (Latent % 2 != 0) throw new ArgumentOutOfRangeException("MultVaeOptions.Latent", Latent, "MultVaeOptions.Latent must be even (mean and log-variance halves).");
        OptionChecks.Range("MultVaeOptions.Dropout", Dropout, 0, 1, maxExclusive: true);
        OptionChecks.Range("MultVaeOptions.AnnealCap", AnnealCap, 0, 10);
        OptionChecks.Range("MultVaeOptions.AnnealSteps", AnnealSteps, 0, int.MaxValue);
        OptionChecks.Range("MultVaeOptions.LearningRate", LearningRate, 0, 10, minExclusive: true);
        OptionChecks.Range("MultVaeOptions.BatchSize", BatchSize, 1, 1 << 24);
        OptionChecks.Range("MultVaeOptions.MaxEpochs", MaxEpochs, 1, 100_000);
        OptionChecks.Range("MultVaeOptions.Patience", Patience, 1, 100_000);
        OptionChecks.Range("MultVaeOptions.MinEpochs", MinEpochs, 0, 100_000);
    }
}

namespace HierRec.Baselines;

/// <summary>Options of <see cref="BprMf"/>; defaults follow RecBole's BPR (64 dimensions, Adam at 1e-3, batch 2048).</summary>
public sealed class BprOptions
{
    /// <summary>Embedding size. Default 64.</summary>
    public int Dimension { get; init; } = 64;

    /// <summary>Adam learning rate. Default 1e-3.</summary>
    public float LearningRate { get; init; } = 1e-3f;

    /// <summary>(user, positive, negative) triples per step. Default 2048.</summary>
    public int BatchSize { get; init; } = 2048;

    /// <summary>Upper bound on epochs. Default 300.</summary>
    public int MaxEpochs { get; init; } = 300;

    /// <summary>Epochs without a better validation NDCG@10 before stopping. Default 10.</summary>
    public int Patience { get; init; } = 10;

    /// <summary>Epochs always run before early stopping may end training (an early validation peak is not the end); at most MaxEpochs. Default 10.</summary>
    public int MinEpochs { get; init; } = 10;

    /// <summary>L2 penalty on the embeddings in a batch (RecBole's BPR has none). Default 0.</summary>
    public float L2 { get; init; }

    /// <summary>Seed of initialisation, shuffling and negative sampling. Default 2020 (RecBole's).</summary>
    public ulong Seed { get; init; } = 2020;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Dimension, nameof(Dimension));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(BatchSize, nameof(BatchSize));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxEpochs, nameof(MaxEpochs));
        if (!(LearningRate > 0)) throw new ArgumentOutOfRangeException(nameof(LearningRate));
        if (MinEpochs < 0) throw new ArgumentOutOfRangeException(nameof(MinEpochs), MinEpochs, "BprOptions.MinEpochs must not be negative.");
    }
}

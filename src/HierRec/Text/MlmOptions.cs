namespace HierRec.Text;

/// <summary>Options of <see cref="MlmPretrainer"/>.</summary>
public sealed record MlmOptions
{
    /// <summary>Passes over the training texts. Default 3.</summary>
    public int Epochs { get; init; } = 3;

    /// <summary>Texts per step. Default 32.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Peak AdamW learning rate. Default 5e-4.</summary>
    public float LearningRate { get; init; } = 5e-4f;

    /// <summary>Share of steps with linear warm-up. Default 0.06.</summary>
    public float WarmupFraction { get; init; } = 0.06f;

    /// <summary>Decoupled weight decay on matrices. Default 0.01.</summary>
    public float WeightDecay { get; init; } = 0.01f;

    /// <summary>Global gradient-norm clip. Default 1.</summary>
    public float ClipNorm { get; init; } = 1f;

    /// <summary>Truncation length in tokens. Default 64.</summary>
    public int MaxLength { get; init; } = 64;

    /// <summary>Share of tokens chosen for prediction. Default 0.15.</summary>
    public float MaskProbability { get; init; } = 0.15f;

    /// <summary>Seed of shuffling and masking. Default 1.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>A checkpoint folder (best weights and an exact resume point), or null.</summary>
    public string? CheckpointFolder { get; init; }

    /// <summary>Checks every option's range (called by the pre-trainer).</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it and its range.</exception>
    public void Validate()
    {
        OptionChecks.Range("MlmOptions.Epochs", Epochs, 1, 100_000);
        OptionChecks.Range("MlmOptions.BatchSize", BatchSize, 1, 1 << 16);
        OptionChecks.Range("MlmOptions.LearningRate", LearningRate, 0, double.MaxValue, minExclusive: true);
        OptionChecks.Range("MlmOptions.WarmupFraction", WarmupFraction, 0, 1, maxExclusive: true);
        OptionChecks.Range("MlmOptions.WeightDecay", WeightDecay, 0, 10);
        OptionChecks.Range("MlmOptions.ClipNorm", ClipNorm, 0, double.MaxValue);
        OptionChecks.Range("MlmOptions.MaxLength", MaxLength, 4, 8192);
        OptionChecks.Range("MlmOptions.MaskProbability", MaskProbability, 0, 1, minExclusive: true, maxExclusive: true);
    }
}

using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace HierRec.Training;

/// <summary>The knobs every HierRec training run shares.</summary>
public sealed record LoopOptions
{
    /// <summary>Most epochs. Default 100.</summary>
    public int Epochs { get; init; } = 100;

    /// <summary>Epochs run before early stopping may stop the run. Default 1.</summary>
    public int MinEpochs { get; init; } = 1;

    /// <summary>Peak AdamW learning rate. Default 2e-3.</summary>
    public double LearningRate { get; init; } = 2e-3;

    /// <summary>Decoupled weight decay on matrices. Default 0.</summary>
    public double WeightDecay { get; init; }

    /// <summary>Linear warm-up over this share of the planned steps, then linear decay to zero. Default 0.02.</summary>
    public double WarmupFraction { get; init; } = 0.02;

    /// <summary>Whether the rate decays linearly to zero after warm-up; false keeps it constant. Default true.</summary>
    public bool Decay { get; init; } = true;

    /// <summary>Global gradient-norm clip (0: none). Default 5.</summary>
    public double ClipNorm { get; init; } = 5;

    /// <summary>Stop after this many validations without a better metric. Default 10.</summary>
    public int Patience { get; init; } = 10;

    /// <summary>Seed of the run's sampling and dropout. Default 1.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>
    /// A folder for checkpoints: best.safetensors (best validation) and resume/ (after each epoch: the weights, AdamW's
    /// moments and step, the sampling generator's state and the early-stopping counters, written atomically as one folder
    /// and checked by hash on load). A run started on a folder with a resume point continues after its last finished
    /// epoch exactly as the uninterrupted run would have. Null: no files.
    /// </summary>
    public string? CheckpointFolder { get; init; }

    /// <summary>Checks the values, naming the first bad one.</summary>
    public void Validate()
    {
        if (Epochs <= 0) throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "Epochs must be positive.");
        if (MinEpochs < 0 || MinEpochs > Epochs) throw new ArgumentOutOfRangeException(nameof(MinEpochs), MinEpochs, $"MinEpochs must be in [0, Epochs = {Epochs}].");
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "The learning rate must be positive and finite.");
        if (WeightDecay < 0 || !double.IsFinite(WeightDecay)) throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay, "Weight decay must be non-negative.");
        if (WarmupFraction is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(WarmupFraction), WarmupFraction, "WarmupFraction must be in [0, 1].");
        if (ClipNorm < 0 || double.IsNaN(ClipNorm)) throw new ArgumentOutOfRangeException(nameof(ClipNorm), ClipNorm, "ClipNorm must be non-negative (0: no clipping).");
        if (Patience <= 0) throw new ArgumentOutOfRangeException(nameof(Patience), Patience, "Patience must be positive.");
    }
}

using HierRec.Data;
using HierRec.Users;

namespace HierRec.Training;

/// <summary>Options of <see cref="HierarchicalTrainer"/>.</summary>
public sealed record HierarchicalTrainingOptions
{
    /// <summary>Most epochs. Default 100.</summary>
    public int Epochs { get; init; } = 100;

    /// <summary>
    /// Users per step. Default 32, what every sample uses: on validation, with every other option at its default, it
    /// is 3 % above 128 on the synthetic data (600 users: five steps an epoch at 128) and level on MovieLens-100K and
    /// Last.fm-2K (benchmarks/RESULTS.md, "Default options").
    /// </summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Peak AdamW learning rate. Default 2e-3.</summary>
    public float LearningRate { get; init; } = 2e-3f;

    /// <summary>Decoupled weight decay (matrices only). Default 0.</summary>
    public float WeightDecay { get; init; }

    /// <summary>Linear warm-up over this share of the planned steps. Default 0.02.</summary>
    public float WarmupFraction { get; init; } = 0.02f;

    /// <summary>Global gradient-norm clip (0: no clipping). Default 5.</summary>
    public float ClipNorm { get; init; } = 5f;

    /// <summary>
    /// Share of a user's training items fed to the model as history in a step; the rest are the targets to predict
    /// (drawn anew every epoch). Default 0.7 (chosen on MovieLens-100K validation NDCG@10 among 0.5, 0.7, 0.8).
    /// </summary>
    public float InputShare { get; init; } = 0.7f;

    /// <summary>
    /// Share of the users in each step trained as newcomers: no history and no learnt user embedding (profile and
    /// friends kept), every training item a target, so the path <see cref="HierarchicalRecommender.RecommendForNewUser"/>
    /// serves is trained too (drawn anew every step). Default 0 (an experiment: see benchmarks/RESULTS.md, "Social cold start").
    /// </summary>
    public float NewUserShare { get; init; }

    /// <summary>The objective. Default full softmax.</summary>
    public TrainingLoss Loss { get; init; } = TrainingLoss.FullSoftmax;

    /// <summary>Negatives per batch for sampled softmax. Default 512.</summary>
    public int SampledNegatives { get; init; } = 512;

    /// <summary>Negative sampling distribution. Default uniform.</summary>
    public NegativeSampling Sampling { get; init; } = NegativeSampling.Uniform;

    /// <summary>Stop after this many epochs without a better validation NDCG@10. Default 10.</summary>
    public int Patience { get; init; } = 10;

    /// <summary>
    /// Epochs run before early stopping may stop training (capped at <see cref="Epochs"/>), so a validation dip in the
    /// first epochs cannot end a run. Default 10.
    /// </summary>
    public int MinEpochs { get; init; } = 10;

    /// <summary>Seed of sampling. Default 1.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>
    /// A folder for checkpoints: best.safetensors (best validation, written atomically) and resume/ (the resume point
    /// after each epoch, written atomically as one folder: the weights, AdamW's moments and step, the sampling
    /// generator's state and the early-stopping counters). A run started on a folder with a resume point continues
    /// after its last finished epoch exactly as the interrupted run would have. Null: no files.
    /// </summary>
    public string? CheckpointFolder { get; init; }

    /// <summary>The shared loop's options.</summary>
    public LoopOptions Loop => new()
    {
        Epochs = Epochs, MinEpochs = Math.Min(MinEpochs, Epochs), LearningRate = LearningRate, WeightDecay = WeightDecay, WarmupFraction = WarmupFraction,
        ClipNorm = ClipNorm, Patience = Patience, Seed = Seed, CheckpointFolder = CheckpointFolder,
    };

    /// <summary>Checks every option's range (called by the trainer and by Fit).</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it and its range.</exception>
    public void Validate()
    {
        OptionChecks.Range("HierarchicalTrainingOptions.Epochs", Epochs, 1, 100_000);
        OptionChecks.Range("HierarchicalTrainingOptions.BatchSize", BatchSize, 1, 1 << 20);
        OptionChecks.Range("HierarchicalTrainingOptions.LearningRate", LearningRate, 0, double.MaxValue, minExclusive: true);
        OptionChecks.Range("HierarchicalTrainingOptions.WeightDecay", WeightDecay, 0, 10);
        OptionChecks.Range("HierarchicalTrainingOptions.WarmupFraction", WarmupFraction, 0, 1, maxExclusive: true);
        OptionChecks.Range("HierarchicalTrainingOptions.ClipNorm", ClipNorm, 0, double.MaxValue);
        OptionChecks.Range("HierarchicalTrainingOptions.InputShare", InputShare, 0, 1, minExclusive: true, maxExclusive: true);
        OptionChecks.Range("HierarchicalTrainingOptions.NewUserShare", NewUserShare, 0, 1, maxExclusive: true);
        OptionChecks.Defined("HierarchicalTrainingOptions.Loss", Loss);
        OptionChecks.Range("HierarchicalTrainingOptions.SampledNegatives", SampledNegatives, 1, 1 << 20);
        OptionChecks.Defined("HierarchicalTrainingOptions.Sampling", Sampling);
        OptionChecks.Range("HierarchicalTrainingOptions.Patience", Patience, 0, 100_000);
        OptionChecks.Range("HierarchicalTrainingOptions.MinEpochs", MinEpochs, 0, 100_000);
    }
}

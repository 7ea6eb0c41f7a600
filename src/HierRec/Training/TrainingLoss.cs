namespace HierRec.Training;

/// <summary>The training objective.</summary>
public enum TrainingLoss
{
    /// <summary>Softmax over the whole catalogue, every held-out item of a user a target (exact P(i|u)). Default.</summary>
    FullSoftmax,

    /// <summary>Softmax over the batch's targets (in-batch negatives) plus sampled negatives, with logQ correction.</summary>
    SampledSoftmax,

    /// <summary>Bayesian personalised ranking: −log σ(s⁺ − s⁻), one sampled negative per target.</summary>
    Bpr,

    /// <summary>Binary cross-entropy on σ(s): targets 1, one sampled negative per target 0.</summary>
    BinaryCrossEntropy,
}

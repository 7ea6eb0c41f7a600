using static TorchSharp.torch;

namespace HierRec;

/// <summary>What a scorer's numbers mean.</summary>
public enum ScoreKind
{
    /// <summary>Unbounded logits: larger is better; softmax or sigmoid turns them into probabilities.</summary>
    Logit,

    /// <summary>Probabilities in [0, 1].</summary>
    Probability,

    /// <summary>Bounded similarities (cosine, possibly divided by a temperature).</summary>
    Similarity,
}

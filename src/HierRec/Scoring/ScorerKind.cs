using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HierRec.Scoring;

/// <summary>The scorers a model can be built with.</summary>
public enum ScorerKind
{
    /// <summary><see cref="DotScorer"/> (default).</summary>
    Dot,

    /// <summary><see cref="CosineScorer"/> with the model's temperature.</summary>
    Cosine,

    /// <summary><see cref="SigmoidScorer"/>: σ(⟨x_u, x_i⟩ + b), b learned.</summary>
    Sigmoid,
}

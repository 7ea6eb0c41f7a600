using HierRec.Fusion;

namespace HierRec;

/// <summary>How the hierarchical model fuses its layers.</summary>
public enum FusionKind
{
    /// <summary><see cref="AttentionFusion"/> (default): the weights are the per-layer contributions.</summary>
    Attention,

    /// <summary><see cref="GatedFusion"/>.</summary>
    Gated,

    /// <summary><see cref="ConcatMlpFusion"/>.</summary>
    ConcatMlp,
}

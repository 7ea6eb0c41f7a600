namespace HierRec.Ranking;

/// <summary>The similarity the index ranks by.</summary>
public enum Similarity
{
    /// <summary>⟨q, x⟩.</summary>
    DotProduct,

    /// <summary>⟨q, x⟩ / (|q| |x|); zero vectors score 0.</summary>
    Cosine,
}

namespace HierRec.Concepts;

/// <summary>Which parts of a description serving uses (<see cref="HierarchicalRecommender.Recommend(string, ConceptVector, int, DescriptionUse)"/>).</summary>
[Flags]
public enum DescriptionUse
{
    /// <summary>None: the user's own ranking, as without a description.</summary>
    None = 0,

    /// <summary>Concept steering: the query moves towards C⁺ (β, <see cref="ConceptModel.SteeringWeight"/>).</summary>
    Steer = 1,

    /// <summary>Word steering: items whose text names the description's words are lifted (β_w, <see cref="ConceptModel.WordSteeringWeight"/>).</summary>
    Words = 2,

    /// <summary>The concept filter: what the description rejects (and, with θ, what it does not ask for) is removed.</summary>
    Filter = 4,

    /// <summary>Everything, as <see cref="HierarchicalRecommender.Recommend(string, string, int)"/> serves.</summary>
    All = Steer | Words | Filter,
}

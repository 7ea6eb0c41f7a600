namespace HierRec.Training;

/// <summary>How negatives are drawn for the sampled losses.</summary>
public enum NegativeSampling
{
    /// <summary>Uniformly over the catalogue.</summary>
    Uniform,

    /// <summary>Proportionally to training popularity^0.75.</summary>
    Popularity,
}

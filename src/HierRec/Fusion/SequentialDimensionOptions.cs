using HierRec.Baselines;

namespace HierRec.Fusion;

/// <summary>
/// The sequential dimension <see cref="HierarchicalRecommender.Fit"/> fuses with the hierarchical model and the
/// collaborative dimension (see <see cref="SequentialDimension"/> and <see cref="DimensionFusion"/>).
/// </summary>
public sealed record SequentialDimensionOptions
{
    /// <summary>
    /// Fuse the dimension in. Default true (off, and listed in DisabledLayers, when the training interactions carry no time
    /// order, above <see cref="MaxItems"/>, or with a cosine scorer).
    /// </summary>
    public bool Enabled { get; init; } = true;

    /// <summary>
    /// The SASRec model's options, used as given. Default null: RecBole's SASRec defaults (2 layers, 2 heads, hidden 64,
    /// sequences of 50, dropout 0.5, Adam 1e-3, patience 10), seeded from <see cref="RecommenderOptions.Seed"/>.
    /// </summary>
    public SequentialOptions? Model { get; init; }

    /// <summary>
    /// Candidates for γ_s, the dimension's weight relative to the hierarchical one, chosen by the fused model's validation
    /// NDCG@10 (0 leaves it out); without validation data, 1. Default 0 and the powers of two from 1/8 to 16 (the two largest added when leave-one-out runs chose 4, the old top).
    /// </summary>
    public IReadOnlyList<float> Weights { get; init; } = [0f, 0.125f, 0.25f, 0.5f, 1f, 2f, 4f, 8f, 16f];

    /// <summary>
    /// A dimension fitted before on the same training data (<see cref="SequentialDimension.Fit"/>), used instead of fitting
    /// one: several fits on one split can share it, as they share a domain BERT. Default null (Fit trains its own).
    /// </summary>
    public SequentialDimension? Pretrained { get; init; }

    /// <summary>Largest catalogue served (training scores every item at every position: 41 × 50 × n floats a step). Default 50,000.</summary>
    public int MaxItems { get; init; } = 50_000;

    /// <summary>Checks the ranges.</summary>
    public void Validate()
    {
        Model?.Validate();
        OptionChecks.NotNull("SequentialDimensionOptions.Weights", Weights);
        OptionChecks.Range("SequentialDimensionOptions.MaxItems", MaxItems, 1, 10_000_000);
        if (Weights.Count == 0 || Weights.Any(w => !(w >= 0) || float.IsInfinity(w)))
            throw new ArgumentOutOfRangeException("SequentialDimensionOptions.Weights", "SequentialDimensionOptions.Weights needs at least one finite γ ≥ 0.");
    }
}

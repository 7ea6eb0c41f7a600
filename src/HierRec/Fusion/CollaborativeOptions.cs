namespace HierRec.Fusion;

/// <summary>
/// The collaborative (item-to-item) dimension <see cref="HierarchicalRecommender.Fit"/> fuses with the hierarchical
/// model (see <see cref="CollaborativeDimension"/> and <see cref="DimensionFusion"/>).
/// </summary>
public sealed record CollaborativeOptions
{
    /// <summary>Fuse the dimension in. Default true (off, and listed in DisabledLayers, above <see cref="MaxItems"/> or with a cosine scorer).</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Rank r of the factorised EASE matrix (capped at the catalogue size). Default 128.</summary>
    public int Rank { get; init; } = 128;

    /// <summary>
    /// EASE's λ candidates, chosen by EASE's own validation NDCG@10 when Fit has validation data; without it, the
    /// first. Default 250, 100, 500, 1000 (RecBole's default first).
    /// </summary>
    public IReadOnlyList<double> Lambdas { get; init; } = [250, 100, 500, 1000];

    /// <summary>
    /// Candidates for γ, the dimension's weight, chosen by the fused model's validation NDCG@10 (0 keeps the hierarchical
    /// model alone); without validation data, 1. Default 0 and the powers of two from 1/8 to 16 (the two largest added when leave-one-out runs chose 4, the old top).
    /// </summary>
    public IReadOnlyList<float> Weights { get; init; } = [0f, 0.125f, 0.25f, 0.5f, 1f, 2f, 4f, 8f, 16f];

    /// <summary>Largest catalogue solved (the dense solve needs 4n² bytes: 1.6 GB at 20,000 items). Default 20,000.</summary>
    public int MaxItems { get; init; } = 20_000;

    /// <summary>Checks the ranges.</summary>
    public void Validate()
    {
        OptionChecks.Range("CollaborativeOptions.Rank", Rank, 1, Ranking.ItemIndex.MaxDimension / 2);
        OptionChecks.Range("CollaborativeOptions.MaxItems", MaxItems, 1, 100_000);
        OptionChecks.NotNull("CollaborativeOptions.Lambdas", Lambdas);
        OptionChecks.NotNull("CollaborativeOptions.Weights", Weights);
        if (Lambdas.Count == 0 || Lambdas.Any(l => !(l > 0) || double.IsInfinity(l)))
            throw new ArgumentOutOfRangeException("CollaborativeOptions.Lambdas", "CollaborativeOptions.Lambdas needs at least one positive, finite λ.");
        if (Weights.Count == 0 || Weights.Any(w => !(w >= 0) || float.IsInfinity(w)))
            throw new ArgumentOutOfRangeException("CollaborativeOptions.Weights", "CollaborativeOptions.Weights needs at least one finite γ ≥ 0.");
    }
}

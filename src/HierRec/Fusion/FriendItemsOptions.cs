namespace HierRec.Fusion;

/// <summary>
/// The friends' items dimension <see cref="HierarchicalRecommender.Fit"/> adds to the served scores of known users
/// (see <see cref="FriendItemsDimension"/>).
/// </summary>
public sealed record FriendItemsOptions
{
    /// <summary>Add the dimension. Default true (off, and listed in DisabledLayers, when the training data has no social edges).</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>
    /// Candidates for γ_f, the dimension's weight relative to the hierarchical one, chosen by the served model's validation
    /// NDCG@10 after the other dimensions' weights (0 leaves it out); without validation data, 0 (the dimension's worth is
    /// not known, so it is not served). Default 0 and the powers of two from 1/160 to 1/5 (0.00625 … 0.2): w_u rescales
    /// the friends' rows to the spread of the hierarchical scores, and where the collaborative part carries the served
    /// score at γ = 0.125 of that spread (Last.fm-2K) the useful weights are a fifth of it and less.
    /// </summary>
    public IReadOnlyList<float> Weights { get; init; } = [0f, 0.00625f, 0.0125f, 0.025f, 0.05f, 0.1f, 0.2f];

    /// <summary>Checks the ranges.</summary>
    public void Validate()
    {
        OptionChecks.NotNull("FriendItemsOptions.Weights", Weights);
        if (Weights.Count == 0 || Weights.Any(w => !(w >= 0) || float.IsInfinity(w)))
            throw new ArgumentOutOfRangeException("FriendItemsOptions.Weights", "FriendItemsOptions.Weights needs at least one finite γ_f ≥ 0.");
    }
}

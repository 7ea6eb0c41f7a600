namespace HierRec.Fusion;

/// <summary>
/// The friends' items dimension <see cref="HierarchicalRecommender.Fit"/> adds to the served scores of known and new
/// users (see <see cref="FriendItemsDimension"/>), with weights chosen on validation for each.
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

    /// <summary>
    /// Candidates for the weight of a new user's friends' items (<see cref="HierarchicalRecommender.RecommendForNewUser"/>),
    /// chosen apart from <see cref="Weights"/> for each of <see cref="NewUserItems"/> on stand-in newcomers. A newcomer's
    /// own evidence is a few items at most, so what the friends chose deserves far more weight than for a known user:
    /// the default runs from 0 to 3.2 (at the top, the friends' rows decide the order and the rest breaks ties).
    /// </summary>
    public IReadOnlyList<float> NewUserWeights { get; init; } = [0f, 0.025f, 0.05f, 0.1f, 0.2f, 0.4f, 0.8f, 1.6f, 3.2f];

    /// <summary>
    /// The newcomers' history lengths a weight is chosen for (ascending, the first 0). A newcomer with n items is served
    /// with the weight chosen for the largest of these ≤ n. Stand-ins are validation users with friends and at least
    /// that many training items, served through the new-user path from their first-hop friends and that many of their
    /// most recent training items, without their learnt user embedding, and judged on their validation items.
    /// Default 0, 2, 5 and 10.
    /// </summary>
    public IReadOnlyList<int> NewUserItems { get; init; } = [0, 2, 5, 10];

    /// <summary>At most this many stand-in newcomers per history length (drawn with the recommender's seed). Default 500.</summary>
    public int NewUserStandIns { get; init; } = 500;

    /// <summary>Checks the ranges.</summary>
    public void Validate()
    {
        OptionChecks.NotNull("FriendItemsOptions.Weights", Weights);
        if (Weights.Count == 0 || Weights.Any(w => !(w >= 0) || float.IsInfinity(w)))
            throw new ArgumentOutOfRangeException("FriendItemsOptions.Weights", "FriendItemsOptions.Weights needs at least one finite γ_f ≥ 0.");
        OptionChecks.NotNull("FriendItemsOptions.NewUserWeights", NewUserWeights);
        if (NewUserWeights.Count == 0 || NewUserWeights.Any(w => !(w >= 0) || float.IsInfinity(w)))
            throw new ArgumentOutOfRangeException("FriendItemsOptions.NewUserWeights", "FriendItemsOptions.NewUserWeights needs at least one finite weight ≥ 0.");
        OptionChecks.NotNull("FriendItemsOptions.NewUserItems", NewUserItems);
        if (NewUserItems.Count == 0 || NewUserItems[0] != 0 || NewUserItems.Zip(NewUserItems.Skip(1)).Any(p => p.Second <= p.First))
            throw new ArgumentOutOfRangeException("FriendItemsOptions.NewUserItems", "FriendItemsOptions.NewUserItems must start at 0 and ascend strictly.");
        if (NewUserStandIns < 1)
            throw new ArgumentOutOfRangeException("FriendItemsOptions.NewUserStandIns", NewUserStandIns, "FriendItemsOptions.NewUserStandIns must be at least 1.");
    }
}

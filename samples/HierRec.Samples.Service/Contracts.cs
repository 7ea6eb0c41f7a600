namespace HierRec.Samples.Service;

/// <summary>One recommended item.</summary>
/// <param name="ItemId">The item.</param>
/// <param name="Score">The model's score.</param>
/// <param name="Probability">P(i|u) under the softmax over the whole catalogue (null for dynamic re-ranking, which scores candidates only).</param>
/// <param name="KeptForNewItem">Dynamic re-ranking only (null otherwise): true when the item holds the place kept for a new item, which the user was offered because they take up new items.</param>
public sealed record RecommendedItem(string ItemId, float Score, double? Probability, bool? KeptForNewItem = null);

/// <summary>A list of recommendations and the model version that made it.</summary>
public sealed record RecommendationsResponse(string Model, long Generation, IReadOnlyList<RecommendedItem> Items);

/// <summary>A new user: what is known of them (any part may be empty).</summary>
public sealed record NewUserRequest(
    Dictionary<string, string?>? Categorical, Dictionary<string, float>? Numeric, IReadOnlyList<string>? Friends,
    IReadOnlyList<string>? RecentItems, string? Description, int K = 10);

/// <summary>An observed interaction.</summary>
public sealed record InteractionEvent(string UserId, string ItemId, long Timestamp);

/// <summary>What happened to posted interactions.</summary>
public sealed record InteractionsAccepted(int Accepted, int Queued);

namespace HierRec.Items;

/// <summary>One recommendation of the two-stage server.</summary>
/// <param name="ItemId">External item id.</param>
/// <param name="ItemIndex">Dense item index.</param>
/// <param name="Score">r = ⟨x_u, S_i⟩ with the dynamic representation.</param>
/// <param name="StaticScore">⟨x_u, E_i⟩, the first stage's score.</param>
public sealed record DynamicRecommendation(string ItemId, int ItemIndex, float Score, float StaticScore)
{
    /// <summary>
    /// True when the item holds a place kept for new items (<see cref="DynamicOptions.NewItemPlaces"/>), offered because
    /// the user takes up new items, rather than a place its score earned.
    /// </summary>
    public bool KeptForNewItem { get; init; }
}

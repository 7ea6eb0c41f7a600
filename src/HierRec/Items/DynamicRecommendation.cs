namespace HierRec.Items;

/// <summary>One recommendation of the two-stage server.</summary>
/// <param name="ItemId">External item id.</param>
/// <param name="ItemIndex">Dense item index.</param>
/// <param name="Score">r = ⟨x_u, S_i⟩ with the dynamic representation.</param>
/// <param name="StaticScore">⟨x_u, E_i⟩, the first stage's score.</param>
public sealed record DynamicRecommendation(string ItemId, int ItemIndex, float Score, float StaticScore);

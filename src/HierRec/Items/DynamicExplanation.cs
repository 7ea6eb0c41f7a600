namespace HierRec.Items;

/// <summary>Why an item scores as it does under the dynamic representation.</summary>
/// <param name="ItemId">The item.</param>
/// <param name="StaticScore">⟨x_u, E_i⟩: the first stage's score.</param>
/// <param name="Score">⟨x_u, S_i⟩: the dynamic score.</param>
/// <param name="ContextEffect">The score minus the score without the context token (leave-one-out; 0 without context).</param>
/// <param name="ContextAttention">The item's attention weight on the context token.</param>
/// <param name="HistoryAttention">The item's attention weights on the history items, largest first.</param>
public sealed record DynamicExplanation(string ItemId, float StaticScore, float Score, float ContextEffect, double ContextAttention,
    IReadOnlyList<Explanations.Attribution> HistoryAttention);

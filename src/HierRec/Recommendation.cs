namespace HierRec;

/// <summary>One recommended item.</summary>
/// <param name="ItemId">External item id.</param>
/// <param name="ItemIndex">Dense item index.</param>
/// <param name="Score">The model scorer's score: ⟨q_u, E_i⟩ by default, cos/τ or σ(⟨q_u, E_i⟩ + b) with those scorers (q_u: the user vector, steered by a description when one is given).</param>
/// <param name="Probability">P(i|u), softmax of the scorer's logits over the whole catalogue (for text cold start from like-minded users, the item's share of their scores; see <see cref="HierarchicalRecommender.RecommendFromDescription"/>).</param>
public sealed record Recommendation(string ItemId, int ItemIndex, float Score, double Probability);

using HierRec.Concepts;

namespace HierRec.Explanations;

/// <summary>Why an item was scored as it was for a user.</summary>
/// <param name="UserId">The user (or "(new user)").</param>
/// <param name="ItemId">The item.</param>
/// <param name="Score">
/// The ranking score ⟨q_u, E_i⟩ (q_u = x_u, steered by the description when one is given), plus the collaborative,
/// sequential and friends' items dimensions' parts when they are served (see LayerAttributions), with the serving
/// transform applied.
/// </param>
/// <param name="Probability">P(i|u): the softmax of the score over the whole catalogue (for text cold start from like-minded users, the item's share of their scores).</param>
/// <param name="Rank">
/// 1-based position at which the user is shown the item: the items the user has seen and the items the description
/// filters out do not count (so the first item of <c>Recommend</c> has rank 1).
/// </param>
/// <param name="LayerContributions">Each user layer's share of the fused user vector (the fusion's weights; item-independent).</param>
/// <param name="LayerAttributions">
/// Each layer's signed attribution to this item's score: gradient × input of the layer vector (profile / behaviour /
/// social), plus "concept" (the steering part of the score) when a description is given, and "collaborative" (the
/// collaborative dimension's part, w_u ⟨c_u, V_i⟩), "sequential" (the sequential dimension's part, v_u ⟨s_u, S_i⟩)
/// and "friends' items" (the friends' items dimension's lift) when those dimensions are served.
/// </param>
/// <param name="HistoryAttributions">Signed gradient × input attribution of each history item to the score, largest magnitude first.</param>
/// <param name="HistoryAttention">The behaviour layer's attention weights over the history, largest first (attention, not an attribution).</param>
/// <param name="FriendAttributions">For each friend, the score drop when that friend is left out, largest magnitude first.</param>
/// <param name="FriendAttention">The social layer's attention weights over neighbours, largest first.</param>
/// <param name="Concept">What the description contributed, or null without one.</param>
/// <param name="CatalogueRank">1-based rank among all items of the catalogue, seen items included and filters ignored.</param>
/// <param name="Dynamic">
/// For dynamic serving (<c>DynamicRecommender.Explain</c>): the second stage's part, whose signed shares also appear in
/// <see cref="LayerAttributions"/> as "context" and "item dynamics"; null for static serving.
/// </param>
/// <param name="CollaborativeAttributions">
/// With the collaborative dimension served: each history item's part of its score, w_u ⟨A_j, V_i⟩ (they sum to
/// LayerAttributions["collaborative"]), largest magnitude first; null without the dimension.
/// </param>
/// <param name="SequentialAttributions">
/// With the sequential dimension served: for each of the user's five most recent items, how much the sequential part of
/// the score (LayerAttributions["sequential"], v_u ⟨s_u, S_i⟩) falls when that item is left out of the sequence, largest
/// magnitude first; null without the dimension. Leave-one-out effects of a transformer need not add up to the part.
/// </param>
/// <param name="FriendItemAttributions">
/// With the friends' items dimension served to a known user: each first-hop friend who chose the item, with an equal
/// part of LayerAttributions["friends' items"] (the lift w_u y_u(i); the parts sum to it); empty when no friend chose
/// it; null without the dimension.
/// </param>
public sealed record Explanation(string UserId, string ItemId, float Score, double Probability, int Rank,
    IReadOnlyDictionary<string, double> LayerContributions, IReadOnlyDictionary<string, double> LayerAttributions,
    IReadOnlyList<Attribution> HistoryAttributions, IReadOnlyList<Attribution> HistoryAttention,
    IReadOnlyList<Attribution> FriendAttributions, IReadOnlyList<Attribution> FriendAttention, ConceptExplanation? Concept, int CatalogueRank, HierRec.Items.DynamicExplanation? Dynamic = null,
    IReadOnlyList<Attribution>? CollaborativeAttributions = null, IReadOnlyList<Attribution>? SequentialAttributions = null,
    IReadOnlyList<Attribution>? FriendItemAttributions = null)
{
    /// <summary>
    /// Each layer's share of this item's score: its positive attribution over the sum of positive attributions (the
    /// fusion's weights when no attribution is positive).
    /// </summary>
    public IReadOnlyDictionary<string, double> ScoreShares
    {
        get
        {
            double positive = LayerAttributions.Values.Where(v => v > 0).Sum();
            if (positive <= 0) return LayerContributions;
            return LayerAttributions.ToDictionary(p => p.Key, p => Math.Max(0, p.Value) / positive);
        }
    }
}

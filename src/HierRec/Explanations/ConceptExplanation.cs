using HierRec.Concepts;

namespace HierRec.Explanations;

/// <summary>What a description contributed to one item's recommendation.</summary>
/// <param name="Description">The user's words.</param>
/// <param name="Clauses">Its clauses with polarity.</param>
/// <param name="PositiveTokens">Tokens of the positive concept with their attention weights.</param>
/// <param name="NegativeTokens">Tokens of the negative concept with their attention weights.</param>
/// <param name="PositiveSimilarity">sim(C⁺, P_i), or null without positive clauses.</param>
/// <param name="NegativeSimilarity">sim(C⁻, P_i), or null without negative clauses.</param>
/// <param name="PassesFilter">Whether the concept filter keeps the item.</param>
/// <param name="SteeringScore">
/// The part of the score added by steering: β |x_u| ⟨Ĉ⁺, E_i⟩, plus <paramref name="WordBonus"/> when the item's text
/// names a word of the description.
/// </param>
/// <param name="WordAttributions">
/// Per word of the positive side (up to 12, the highest-weighted), what it did for this item: the steering score minus
/// the steering score with the word deleted from the description (leave-one-out), largest magnitude first. The
/// sentence names the words with the largest positive attributions.
/// </param>
/// <param name="WordBonus">
/// What word steering added because the item's own text names a word of the description (β_w σ_u,
/// <see cref="ConceptModel.WordSteeringWeight"/>); 0 when it names none or word steering is off.
/// </param>
/// <param name="GenericWords">
/// The words of the positive side that say nothing about a taste in this domain ("films", "I";
/// <see cref="ConceptModel.GenericWords"/>): attributed like the others, but the sentence does not name them as what
/// the user asked for. Null or empty: none.
/// </param>
public sealed record ConceptExplanation(string Description, IReadOnlyList<ConceptClause> Clauses, IReadOnlyList<TokenWeight> PositiveTokens,
    IReadOnlyList<TokenWeight> NegativeTokens, double? PositiveSimilarity, double? NegativeSimilarity, bool PassesFilter, double SteeringScore,
    IReadOnlyList<TokenWeight>? WordAttributions = null, double WordBonus = 0, IReadOnlyList<string>? GenericWords = null);

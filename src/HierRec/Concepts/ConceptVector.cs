namespace HierRec.Concepts;

/// <summary>What a description says, as vectors in the item space.</summary>
/// <param name="Description">The user's words.</param>
/// <param name="Clauses">The clauses with their polarity.</param>
/// <param name="Positive">C⁺: the concept of the positive clauses (D), or null when there are none.</param>
/// <param name="Negative">C⁻: the concept of the negative clauses (D), or null when there are none.</param>
/// <param name="PositiveTokens">
/// The words read for C⁺ with their pooling attention weights: WordPiece pieces merged into the word of the original
/// text, a Chinese phrase as one unit, punctuation and special tokens left out (so the weights sum to at most 1).
/// </param>
/// <param name="NegativeTokens">The tokens read for C⁻ with their weights.</param>
public sealed record ConceptVector(string Description, IReadOnlyList<ConceptClause> Clauses, float[]? Positive, float[]? Negative,
    IReadOnlyList<TokenWeight> PositiveTokens, IReadOnlyList<TokenWeight> NegativeTokens);

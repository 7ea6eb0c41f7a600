namespace HierRec.Evaluation;

/// <summary>Which tags a user likes and dislikes, read from training interactions only.</summary>
/// <param name="Liked">Up to two tags the user over-consumes most (by lift over the catalogue-wide share).</param>
/// <param name="Disliked">A common tag the user clearly avoids, or null.</param>
public sealed record TagTaste(IReadOnlyList<string> Liked, string? Disliked);

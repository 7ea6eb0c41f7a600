using static TorchSharp.torch;

namespace HierRec;

/// <summary>
/// Scores users against items.
/// </summary>
/// <remarks>
/// Contract: users are a (B, D) tensor and items an (N, D) tensor in the same space. <see cref="ScoreMatrix"/> returns
/// (B, N), every user against every item: N = B gives the in-batch matrix, N = the catalogue gives full scores.
/// <see cref="ScorePairs"/> returns (B), user b against item b. Results are differentiable while gradients are
/// recorded. <see cref="Logits"/> are the unbounded values a loss reads (for a probability scorer, the values before the
/// squashing), so training can use any scorer with a numerically stable loss. Trainable scorers (a learned bias) are
/// modules whose parameters train with the model. Scorers are safe for concurrent inference under no-grad.
/// </remarks>
public interface IScorer
{
    /// <summary>Whether the scores are logits, probabilities or similarities.</summary>
    ScoreKind Kind { get; }

    /// <summary>users (B, D) × items (N, D) → (B, N).</summary>
    Tensor ScoreMatrix(Tensor users, Tensor items);

    /// <summary>users (B, D) and items (B, D), row by row → (B).</summary>
    Tensor ScorePairs(Tensor users, Tensor items);

    /// <summary>The unbounded (B, N) values behind <see cref="ScoreMatrix"/>: what softmax and sigmoid losses read.</summary>
    Tensor Logits(Tensor users, Tensor items);

    /// <summary>The unbounded values of row-aligned pairs, (B): row b of <see cref="Logits"/>'s diagonal, without the matrix.</summary>
    Tensor PairLogits(Tensor users, Tensor items);
}

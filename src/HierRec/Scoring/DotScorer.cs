using HierRec.Ranking;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HierRec.Scoring;

/// <summary>The inner product ⟨x_u, x_i⟩, an unnormalised logit (what the ranker's dot index computes).</summary>
public sealed class DotScorer : IServableScorer
{
    /// <inheritdoc/>
    public ScoreKind Kind => ScoreKind.Logit;

    /// <inheritdoc/>
    public ServingScore Serving { get; } = new(Similarity.DotProduct, 1f, null);

    /// <inheritdoc/>
    public Tensor ScoreMatrix(Tensor users, Tensor items)
    {
        ScorerChecks.Matrix(users, items);
        return users.matmul(items.t());
    }

    /// <inheritdoc/>
    public Tensor ScorePairs(Tensor users, Tensor items)
    {
        ScorerChecks.Pairs(users, items);
        return ScorerChecks.RowDot(users, items);
    }

    /// <inheritdoc/>
    public Tensor Logits(Tensor users, Tensor items) => ScoreMatrix(users, items);

    /// <inheritdoc/>
    public Tensor PairLogits(Tensor users, Tensor items) => ScorePairs(users, items);
}

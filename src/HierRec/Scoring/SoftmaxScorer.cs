using HierRec.Ranking;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HierRec.Scoring;

/// <summary>
/// P(i | u) = softmax over the given items of ⟨x_u, x_i⟩ / T: pass the whole catalogue as items for the full-catalogue
/// probability the explanations report. For one user against millions of items, the ranker's streaming
/// log-sum-exp (<c>ItemIndex.Rank</c>) gives the same probabilities without materialising the row.
/// </summary>
public sealed class SoftmaxScorer : IServableScorer
{
    /// <summary>Creates the scorer with temperature T.</summary>
    public SoftmaxScorer(float temperature = 1f)
    {
        Temperature = ScorerChecks.Temperature(temperature);
        Serving = new ServingScore(Similarity.DotProduct, Temperature, null);
    }

    /// <summary>T.</summary>
    public float Temperature { get; }

    /// <inheritdoc/>
    public ScoreKind Kind => ScoreKind.Probability;

    /// <inheritdoc/>
    public ServingScore Serving { get; }

    /// <inheritdoc/>
    public Tensor Logits(Tensor users, Tensor items)
    {
        ScorerChecks.Matrix(users, items);
        using var dot = users.matmul(items.t());
        return dot.Over(Temperature);
    }

    /// <inheritdoc/>
    public Tensor PairLogits(Tensor users, Tensor items)
    {
        ScorerChecks.Pairs(users, items);
        using var dot = ScorerChecks.RowDot(users, items);
        return dot.Over(Temperature);
    }

    /// <summary>Log-probabilities (B, N), for losses.</summary>
    public Tensor LogProbabilities(Tensor users, Tensor items)
    {
        using var logits = Logits(users, items);
        return logits.log_softmax(1);
    }

    /// <inheritdoc/>
    public Tensor ScoreMatrix(Tensor users, Tensor items)
    {
        using var logits = Logits(users, items);
        return logits.softmax(1);
    }

    /// <summary>
    /// P(item b | user b) normalised over the B items of the batch (the in-batch softmax of sampled-softmax training):
    /// the diagonal of <see cref="ScoreMatrix"/>(users, items).
    /// </summary>
    public Tensor ScorePairs(Tensor users, Tensor items)
    {
        ScorerChecks.Pairs(users, items);
        using var matrix = ScoreMatrix(users, items);
        return matrix.diagonal().contiguous();
    }
}

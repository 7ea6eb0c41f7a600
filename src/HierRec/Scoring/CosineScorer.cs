using HierRec.Ranking;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HierRec.Scoring;

/// <summary>Cosine similarity divided by a temperature τ: cos(x_u, x_i) / τ (in [−1/τ, 1/τ]).</summary>
public sealed class CosineScorer : IServableScorer
{
    /// <summary>Creates the scorer; τ = 1 gives plain cosine, small τ (e.g. 0.05–0.2) sharpens it for softmax losses.</summary>
    public CosineScorer(float temperature = 1f)
    {
        Temperature = ScorerChecks.Temperature(temperature);
        float t = Temperature;
        Serving = new ServingScore(Similarity.Cosine, t, t == 1f ? null : s => s / t);
    }

    /// <summary>τ.</summary>
    public float Temperature { get; }

    /// <inheritdoc/>
    public ScoreKind Kind => ScoreKind.Similarity;

    /// <inheritdoc/>
    public ServingScore Serving { get; }

    /// <inheritdoc/>
    public Tensor ScoreMatrix(Tensor users, Tensor items)
    {
        ScorerChecks.Matrix(users, items);
        using var scope = torch.NewDisposeScope();
        return ScorerChecks.Normalize(users).matmul(ScorerChecks.Normalize(items).t()).OverInPlace(Temperature).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public Tensor ScorePairs(Tensor users, Tensor items)
    {
        ScorerChecks.Pairs(users, items);
        using var scope = torch.NewDisposeScope();
        return ScorerChecks.RowDot(ScorerChecks.Normalize(users), ScorerChecks.Normalize(items)).OverInPlace(Temperature).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public Tensor Logits(Tensor users, Tensor items) => ScoreMatrix(users, items);

    /// <inheritdoc/>
    public Tensor PairLogits(Tensor users, Tensor items) => ScorePairs(users, items);
}

using HierRec.Ranking;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HierRec.Scoring;

/// <summary>
/// The probability of an interaction, σ(⟨x_u, x_i⟩ + b), with a learned global bias b (a module parameter named
/// <c>bias</c>). With several interest dimensions fused into x_u this is the fusion article's score. The ranking is the
/// dot product's (σ is monotone and b is shared), so the ranker serves it with a dot index.
/// </summary>
public sealed class SigmoidScorer : nn.Module, IServableScorer
{
    /// <summary>Registers nothing by reflection: the constructor registers every component by name (<see cref="Training.TorchCheckpoint.State"/> says why).</summary>
    protected override void RegisterComponents() { }

    /// <summary>Creates the scorer with the bias at <paramref name="initialBias"/>.</summary>
    public SigmoidScorer(float initialBias = 0f) : base(nameof(SigmoidScorer))
    {
        register_parameter("bias", new Parameter(torch.tensor(new[] { initialBias })));
    }

    /// <summary>b, shape (1).</summary>
    public Parameter Bias => get_parameter("bias")!;

    /// <inheritdoc/>
    public ScoreKind Kind => ScoreKind.Probability;

    /// <inheritdoc/>
    public ServingScore Serving
    {
        get
        {
            float b;
            using (torch.NewDisposeScope()) b = Bias.detach().cpu().item<float>(); // the aliases freed here, not by the finalizer
            return new ServingScore(Similarity.DotProduct, 1f, s => 1f / (1f + MathF.Exp(-(s + b))));
        }
    }

    /// <summary>The logits ⟨x_u, x_i⟩ + b before the sigmoid, (B, N); use these with a binary cross-entropy on logits.</summary>
    public Tensor Logits(Tensor users, Tensor items)
    {
        ScorerChecks.Matrix(users, items);
        using var dot = users.matmul(items.t());
        return dot.Plus(Bias);
    }

    /// <summary>The logits of row-aligned pairs, (B).</summary>
    public Tensor PairLogits(Tensor users, Tensor items)
    {
        ScorerChecks.Pairs(users, items);
        using var dot = ScorerChecks.RowDot(users, items);
        return dot.Plus(Bias);
    }

    /// <inheritdoc/>
    public Tensor ScoreMatrix(Tensor users, Tensor items)
    {
        using var logits = Logits(users, items);
        return logits.sigmoid();
    }

    /// <inheritdoc/>
    public Tensor ScorePairs(Tensor users, Tensor items)
    {
        using var logits = PairLogits(users, items);
        return logits.sigmoid();
    }
}

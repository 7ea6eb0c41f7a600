using HierRec.Ranking;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HierRec.Scoring;

/// <summary>Checks shared by the scorers.</summary>
internal static class ScorerChecks
{
    public static void Matrix(Tensor users, Tensor items)
    {
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(items);
        if (users.dim() != 2 || items.dim() != 2 || users.shape[1] != items.shape[1])
            throw new ArgumentException($"Scoring needs users (B, D) and items (N, D) of the same D; got users {TorchInterop.ShapeString(users.shape)} and items {TorchInterop.ShapeString(items.shape)}.");
    }

    public static void Pairs(Tensor users, Tensor items)
    {
        Matrix(users, items);
        if (users.shape[0] != items.shape[0])
            throw new ArgumentException($"Pair scoring needs as many items as users; got users {TorchInterop.ShapeString(users.shape)} and items {TorchInterop.ShapeString(items.shape)}.");
    }

    public static float Temperature(float temperature) =>
        temperature > 0 && float.IsFinite(temperature) ? temperature
            : throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "Temperature must be positive and finite.");

    /// <summary>Row-wise dot products of two (B, D) tensors → (B).</summary>
    public static Tensor RowDot(Tensor users, Tensor items)
    {
        using var product = users * items;
        return product.sum(1);
    }

    public static Tensor Normalize(Tensor x) => nn.functional.normalize(x, p: 2, dim: 1, eps: 1e-12);
}

/// <summary>How a scorer is served by the ranker: the index's similarity, its softmax temperature, and the score shown.</summary>
/// <param name="Similarity">What the index computes.</param>
/// <param name="Temperature">The softmax temperature giving P(i|u) from the index scores.</param>
/// <param name="Transform">Maps an index score to the scorer's score (for example σ(s + b)); null: the score itself.</param>
public sealed record ServingScore(Similarity Similarity, float Temperature, Func<float, float>? Transform);

/// <summary>A scorer the ranker can serve: the index computes its ranking exactly.</summary>
public interface IServableScorer : IScorer
{
    /// <summary>How the ranker reproduces this scorer.</summary>
    ServingScore Serving { get; }
}

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
        return ScorerChecks.Normalize(users).matmul(ScorerChecks.Normalize(items).t()).div_(Temperature).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public Tensor ScorePairs(Tensor users, Tensor items)
    {
        ScorerChecks.Pairs(users, items);
        using var scope = torch.NewDisposeScope();
        return ScorerChecks.RowDot(ScorerChecks.Normalize(users), ScorerChecks.Normalize(items)).div_(Temperature).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public Tensor Logits(Tensor users, Tensor items) => ScoreMatrix(users, items);

    /// <inheritdoc/>
    public Tensor PairLogits(Tensor users, Tensor items) => ScorePairs(users, items);
}

/// <summary>
/// The probability of an interaction, σ(⟨x_u, x_i⟩ + b), with a learned global bias b (a module parameter named
/// <c>bias</c>). With several interest dimensions fused into x_u this is the fusion article's score. The ranking is the
/// dot product's (σ is monotone and b is shared), so the ranker serves it with a dot index.
/// </summary>
public sealed class SigmoidScorer : nn.Module, IServableScorer
{
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
            float b = Bias.detach().cpu().item<float>();
            return new ServingScore(Similarity.DotProduct, 1f, s => 1f / (1f + MathF.Exp(-(s + b))));
        }
    }

    /// <summary>The logits ⟨x_u, x_i⟩ + b before the sigmoid, (B, N); use these with a binary cross-entropy on logits.</summary>
    public Tensor Logits(Tensor users, Tensor items)
    {
        ScorerChecks.Matrix(users, items);
        using var dot = users.matmul(items.t());
        return dot + Bias;
    }

    /// <summary>The logits of row-aligned pairs, (B).</summary>
    public Tensor PairLogits(Tensor users, Tensor items)
    {
        ScorerChecks.Pairs(users, items);
        using var dot = ScorerChecks.RowDot(users, items);
        return dot + Bias;
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
        return dot.div(Temperature);
    }

    /// <inheritdoc/>
    public Tensor PairLogits(Tensor users, Tensor items)
    {
        ScorerChecks.Pairs(users, items);
        using var dot = ScorerChecks.RowDot(users, items);
        return dot.div(Temperature);
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

/// <summary>The scorers a model can be built with.</summary>
public enum ScorerKind
{
    /// <summary><see cref="DotScorer"/> (default).</summary>
    Dot,

    /// <summary><see cref="CosineScorer"/> with the model's temperature.</summary>
    Cosine,

    /// <summary><see cref="SigmoidScorer"/>: σ(⟨x_u, x_i⟩ + b), b learned.</summary>
    Sigmoid,
}

using HierRec.Tensors;
using HierRec.Tensors.Layers;

namespace HierRec.Scoring;

/// <summary>Checks shared by the scorers.</summary>
internal static class ScorerChecks
{
    public static void Matrix(Tensor users, Tensor items)
    {
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(items);
        if (users.Rank != 2 || items.Rank != 2 || users.Dim(1) != items.Dim(1))
            throw new ArgumentException($"Scoring needs users (B, D) and items (N, D) of the same D; got users {Tensor.ShapeString(users.Shape)} and items {Tensor.ShapeString(items.Shape)}.");
    }

    public static void Pairs(Tensor users, Tensor items)
    {
        Matrix(users, items);
        if (users.Dim(0) != items.Dim(0))
            throw new ArgumentException($"Pair scoring needs as many items as users; got users {Tensor.ShapeString(users.Shape)} and items {Tensor.ShapeString(items.Shape)}.");
    }

    public static float Temperature(float temperature) =>
        temperature > 0 && float.IsFinite(temperature) ? temperature
            : throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "Temperature must be positive and finite.");

    /// <summary>Row-wise dot products of two (B, D) tensors → (B).</summary>
    public static Tensor RowDot(Tensor users, Tensor items) => Ops.Sum(users * items, 1);
}

/// <summary>The inner product ⟨x_u, x_i⟩, an unnormalised logit (what the ranker's dot index computes).</summary>
public sealed class DotScorer : IScorer
{
    /// <inheritdoc/>
    public ScoreKind Kind => ScoreKind.Logit;

    /// <inheritdoc/>
    public Tensor ScoreMatrix(Tensor users, Tensor items)
    {
        ScorerChecks.Matrix(users, items);
        return Ops.MatMul(users, items, transposeB: true);
    }

    /// <inheritdoc/>
    public Tensor ScorePairs(Tensor users, Tensor items)
    {
        ScorerChecks.Pairs(users, items);
        return ScorerChecks.RowDot(users, items);
    }
}

/// <summary>Cosine similarity divided by a temperature τ: cos(x_u, x_i) / τ (in [−1/τ, 1/τ]).</summary>
public sealed class CosineScorer : IScorer
{
    /// <summary>Creates the scorer; τ = 1 gives plain cosine, small τ (e.g. 0.05–0.2) sharpens it for softmax losses.</summary>
    public CosineScorer(float temperature = 1f) => Temperature = ScorerChecks.Temperature(temperature);

    /// <summary>τ.</summary>
    public float Temperature { get; }

    /// <inheritdoc/>
    public ScoreKind Kind => ScoreKind.Similarity;

    /// <inheritdoc/>
    public Tensor ScoreMatrix(Tensor users, Tensor items)
    {
        ScorerChecks.Matrix(users, items);
        return Ops.Scale(Ops.MatMul(Ops.L2Normalize(users), Ops.L2Normalize(items), transposeB: true), 1f / Temperature);
    }

    /// <inheritdoc/>
    public Tensor ScorePairs(Tensor users, Tensor items)
    {
        ScorerChecks.Pairs(users, items);
        return Ops.Scale(ScorerChecks.RowDot(Ops.L2Normalize(users), Ops.L2Normalize(items)), 1f / Temperature);
    }
}

/// <summary>
/// The probability of an interaction, σ(⟨x_u, x_i⟩ + b), with a learned global bias b (a module parameter named
/// <c>bias</c>). With several interest dimensions fused into x_u this is the fusion article's score.
/// </summary>
public sealed class SigmoidScorer : Module, IScorer
{
    /// <summary>Creates the scorer with the bias at <paramref name="initialBias"/>.</summary>
    public SigmoidScorer(float initialBias = 0f) => Bias = RegisterParameter("bias", Tensor.FromArray([initialBias], 1));

    /// <summary>b, shape (1).</summary>
    public Tensor Bias { get; }

    /// <inheritdoc/>
    public ScoreKind Kind => ScoreKind.Probability;

    /// <summary>The logits ⟨x_u, x_i⟩ + b before the sigmoid, (B, N); use these with a binary cross-entropy on logits.</summary>
    public Tensor LogitMatrix(Tensor users, Tensor items)
    {
        ScorerChecks.Matrix(users, items);
        return Ops.MatMul(users, items, transposeB: true) + Bias;
    }

    /// <summary>The logits of row-aligned pairs, (B).</summary>
    public Tensor LogitPairs(Tensor users, Tensor items)
    {
        ScorerChecks.Pairs(users, items);
        return ScorerChecks.RowDot(users, items) + Bias;
    }

    /// <inheritdoc/>
    public Tensor ScoreMatrix(Tensor users, Tensor items) => Ops.Sigmoid(LogitMatrix(users, items));

    /// <inheritdoc/>
    public Tensor ScorePairs(Tensor users, Tensor items) => Ops.Sigmoid(LogitPairs(users, items));
}

/// <summary>
/// P(i | u) = softmax over the given items of ⟨x_u, x_i⟩ / T: pass the whole catalogue as items for the full-catalogue
/// probability the explanations report. For one user against millions of items, the ranker's streaming
/// log-sum-exp (<c>ItemIndex.Rank</c>) gives the same probabilities without materialising the row.
/// </summary>
public sealed class SoftmaxScorer : IScorer
{
    /// <summary>Creates the scorer with temperature T.</summary>
    public SoftmaxScorer(float temperature = 1f) => Temperature = ScorerChecks.Temperature(temperature);

    /// <summary>T.</summary>
    public float Temperature { get; }

    /// <inheritdoc/>
    public ScoreKind Kind => ScoreKind.Probability;

    /// <summary>Log-probabilities (B, N), for losses.</summary>
    public Tensor LogProbabilities(Tensor users, Tensor items)
    {
        ScorerChecks.Matrix(users, items);
        return Ops.LogSoftmax(Ops.Scale(Ops.MatMul(users, items, transposeB: true), 1f / Temperature));
    }

    /// <inheritdoc/>
    public Tensor ScoreMatrix(Tensor users, Tensor items)
    {
        ScorerChecks.Matrix(users, items);
        return Ops.Softmax(Ops.Scale(Ops.MatMul(users, items, transposeB: true), 1f / Temperature));
    }

    /// <summary>
    /// P(item b | user b) normalised over the B items of the batch (the in-batch softmax of sampled-softmax training):
    /// the diagonal of <see cref="ScoreMatrix"/>(users, items).
    /// </summary>
    public Tensor ScorePairs(Tensor users, Tensor items)
    {
        ScorerChecks.Pairs(users, items);
        int b = users.Dim(0);
        var diagonal = new int[b];
        for (int i = 0; i < b; i++) diagonal[i] = i * b + i;
        return Ops.Reshape(Ops.Embedding(Ops.Reshape(ScoreMatrix(users, items), b * b, 1), diagonal, b), b); // (B, 1) → (B)
    }
}

using System.Numerics.Tensors;

namespace HierRec.Fusion;

/// <summary>
/// Fuses the hierarchical interest dimension (⟨x_u, E_i⟩) with the collaborative one (⟨c_u, V_i⟩, see
/// <see cref="CollaborativeDimension"/>) into one dot product the ranker serves: item rows [E_i ; V_i] and queries
/// [x_u ; w_u c_u], so the fused score is ⟨x_u, E_i⟩ + w_u ⟨c_u, V_i⟩.
/// </summary>
/// <remarks>
/// w_u = γ σ_E(x_u) / σ_V(c_u), where σ_E(x) = √(xᵀ Σ_E x) is the spread over the catalogue of the user's hierarchical
/// scores (Σ_E the covariance of the rows of E) and σ_V(c) that of the collaborative scores. The collaborative scores are
/// thus rescaled, per user, to the spread of the user's hierarchical logits and weighted by γ: a per-user z-score blend
/// (the ranking equals that of (1 − α) z_hier + α z_collab with α = γ / (1 + γ)), kept in logit units so P(i|u) stays a
/// softmax of logits. A user with no history has c_u = 0 and is served by the hierarchical dimension alone.
/// </remarks>
public sealed class DimensionFusion
{
    private readonly float[] _covarianceE; // (D, D)
    private readonly float[] _covarianceV; // (r, r)

    /// <summary>Prepares the fusion of item vectors <paramref name="itemVectors"/> (items × <paramref name="dimension"/>) with <paramref name="collaborative"/>.</summary>
    /// <param name="itemVectors">The hierarchical model's item vectors E, row-major.</param>
    /// <param name="dimension">D, the width of E.</param>
    /// <param name="collaborative">The collaborative dimension (same catalogue).</param>
    /// <param name="weight">γ ≥ 0, the collaborative dimension's weight relative to the hierarchical one.</param>
    public DimensionFusion(ReadOnlySpan<float> itemVectors, int dimension, CollaborativeDimension collaborative, float weight)
    {
        ArgumentNullException.ThrowIfNull(collaborative);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        if (itemVectors.Length != (long)collaborative.Items * dimension)
            throw new ArgumentException($"The item vectors hold {itemVectors.Length} values; {collaborative.Items} items × {dimension} needs {(long)collaborative.Items * dimension}.", nameof(itemVectors));
        if (!(weight >= 0) || !float.IsFinite(weight)) throw new ArgumentOutOfRangeException(nameof(weight), weight, "The collaborative weight γ must be finite and ≥ 0.");
        Collaborative = collaborative;
        Dimension = dimension;
        Weight = weight;
        _covarianceE = Covariance(itemVectors, collaborative.Items, dimension);
        _covarianceV = Covariance(collaborative.CandidateFactors, collaborative.Items, collaborative.Rank);
    }

    private DimensionFusion(DimensionFusion other, float weight)
    {
        Collaborative = other.Collaborative;
        Dimension = other.Dimension;
        Weight = weight;
        _covarianceE = other._covarianceE;
        _covarianceV = other._covarianceV;
    }

    /// <summary>The same fusion at weight <paramref name="weight"/> (the covariances are shared, not recomputed).</summary>
    public DimensionFusion WithWeight(float weight)
    {
        if (!(weight >= 0) || !float.IsFinite(weight)) throw new ArgumentOutOfRangeException(nameof(weight), weight, "The collaborative weight γ must be finite and ≥ 0.");
        return new DimensionFusion(this, weight);
    }

    /// <summary>The collaborative dimension.</summary>
    public CollaborativeDimension Collaborative { get; }

    /// <summary>D, the hierarchical dimension's width.</summary>
    public int Dimension { get; }

    /// <summary>γ, the collaborative dimension's weight (0: the hierarchical model alone).</summary>
    public float Weight { get; }

    /// <summary>Width of the fused vectors, D + r.</summary>
    public int Width => Dimension + Collaborative.Rank;

    /// <summary>The fused item rows [E_i ; V_i], row-major (items × <see cref="Width"/>).</summary>
    public float[] ItemRows(ReadOnlySpan<float> itemVectors)
    {
        int n = Collaborative.Items, d = Dimension, r = Collaborative.Rank, w = Width;
        if (itemVectors.Length != (long)n * d) throw new ArgumentException($"The item vectors hold {itemVectors.Length} values; expected {(long)n * d}.", nameof(itemVectors));
        var rows = new float[(long)n * w];
        var v = Collaborative.CandidateFactors;
        for (int i = 0; i < n; i++)
        {
            itemVectors.Slice(i * d, d).CopyTo(rows.AsSpan(i * w, d));
            v.Slice(i * r, r).CopyTo(rows.AsSpan(i * w + d, r));
        }
        return rows;
    }

    /// <summary>The fused query [x_u ; w_u c_u] of a user vector and the user's history.</summary>
    public float[] Query(ReadOnlySpan<float> userVector, ReadOnlySpan<int> history) => Query(userVector, history, out _);

    /// <summary>As <see cref="Query(ReadOnlySpan{float}, ReadOnlySpan{int})"/>, with w_u.</summary>
    public float[] Query(ReadOnlySpan<float> userVector, ReadOnlySpan<int> history, out float userWeight) => Query(userVector, history, userVector, out userWeight);

    /// <summary>
    /// As <see cref="Query(ReadOnlySpan{float}, ReadOnlySpan{int})"/> for a query vector derived from the user's own
    /// vector <paramref name="spreadOf"/> (a description's steering, say): w_u comes from the user's own spread, so the
    /// collaborative part is the same with and without the steering and the difference of scores is the steering's.
    /// </summary>
    public float[] Query(ReadOnlySpan<float> userVector, ReadOnlySpan<int> history, ReadOnlySpan<float> spreadOf, out float userWeight)
    {
        if (userVector.Length != Dimension) throw new ArgumentException($"The user vector has {userVector.Length} values; the dimension is {Dimension}.", nameof(userVector));
        if (spreadOf.Length != Dimension) throw new ArgumentException($"The spread vector has {spreadOf.Length} values; the dimension is {Dimension}.", nameof(spreadOf));
        var query = new float[Width];
        userVector.CopyTo(query);
        var c = query.AsSpan(Dimension);
        Collaborative.UserFactors(history, c);
        double spreadV = Spread(c, _covarianceV, Collaborative.Rank);
        double spreadE = Spread(spreadOf, _covarianceE, Dimension);
        // A user whose hierarchical scores do not vary at all (σ_E = 0) gets the collaborative z-scores at weight γ.
        userWeight = spreadV > 0 ? (float)(Weight * (spreadE > 0 ? spreadE : 1.0) / spreadV) : 0f;
        TensorPrimitives.Multiply(c, userWeight, c);
        return query;
    }

    /// <summary>The hierarchical and collaborative parts of a fused query's score for an item row of <see cref="ItemRows"/>.</summary>
    public (float Hierarchical, float Collaborative) Parts(ReadOnlySpan<float> query, ReadOnlySpan<float> fusedRow) =>
        (TensorPrimitives.Dot(query[..Dimension], fusedRow[..Dimension]), TensorPrimitives.Dot(query[Dimension..], fusedRow[Dimension..]));

    /// <summary>
    /// Each distinct history item's part w_u ⟨A_j, V_i⟩ of <paramref name="item"/>'s collaborative score, for the user whose
    /// own vector is <paramref name="spreadOf"/> (the parts sum to the collaborative part of the fused score).
    /// </summary>
    public IReadOnlyList<(int Item, float Part)> HistoryParts(ReadOnlySpan<float> spreadOf, ReadOnlySpan<int> history, int item)
    {
        Query(spreadOf, history, spreadOf, out float w);
        var v = Collaborative.CandidateFactors.Slice(item * Collaborative.Rank, Collaborative.Rank);
        var a = Collaborative.HistoryFactors;
        var parts = new List<(int, float)>();
        var seen = new HashSet<int>();
        foreach (int j in history)
            if (seen.Add(j)) parts.Add((j, w * TensorPrimitives.Dot(a.Slice(j * Collaborative.Rank, Collaborative.Rank), v)));
        return parts;
    }

    private static double Spread(ReadOnlySpan<float> x, float[] covariance, int width)
    {
        double q = 0;
        for (int a = 0; a < width; a++)
            q += x[a] * (double)TensorPrimitives.Dot(covariance.AsSpan(a * width, width), x);
        return q > 0 ? Math.Sqrt(q) : 0;
    }

    /// <summary>Σ = (1/n) Σ_i (row_i − mean)(row_i − mean)ᵀ in double, stored as float (width × width).</summary>
    private static float[] Covariance(ReadOnlySpan<float> rows, int n, int width)
    {
        var mean = new double[width];
        for (int i = 0; i < n; i++)
            for (int a = 0; a < width; a++) mean[a] += rows[i * width + a];
        for (int a = 0; a < width; a++) mean[a] /= n;
        var sum = new double[width * width];
        var centred = new double[width];
        for (int i = 0; i < n; i++)
        {
            for (int a = 0; a < width; a++) centred[a] = rows[i * width + a] - mean[a];
            for (int a = 0; a < width; a++)
            {
                double ca = centred[a];
                if (ca == 0) continue;
                int at = a * width;
                for (int b = 0; b < width; b++) sum[at + b] += ca * centred[b];
            }
        }
        var result = new float[width * width];
        for (int k = 0; k < result.Length; k++) result[k] = (float)(sum[k] / n);
        return result;
    }
}

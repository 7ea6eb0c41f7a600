using System.Numerics.Tensors;

namespace HierRec.Fusion;

/// <summary>
/// Fuses the hierarchical interest dimension (⟨x_u, E_i⟩) with the collaborative one (⟨c_u, V_i⟩, see
/// <see cref="CollaborativeDimension"/>) and the sequential one (⟨s_u, S_i⟩, see <see cref="SequentialDimension"/>) into
/// one dot product the ranker serves: item rows [E_i ; V_i ; S_i] and queries [x_u ; w_u c_u ; v_u s_u], so the fused
/// score is ⟨x_u, E_i⟩ + w_u ⟨c_u, V_i⟩ + v_u ⟨s_u, S_i⟩. Either extra dimension may be absent (its block is then not in
/// the rows or the queries).
/// </summary>
/// <remarks>
/// w_u = γ σ_E(x_u) / σ_V(c_u), where σ_E(x) = √(xᵀ Σ_E x) is the spread over the catalogue of the user's hierarchical
/// scores (Σ_E the covariance of the rows of E) and σ_V(c) that of the collaborative scores; v_u = γ_s σ_E(x_u) / σ_S(s_u)
/// likewise. Each extra dimension's scores are thus rescaled, per user, to the spread of the user's hierarchical logits
/// and weighted by its γ: a per-user z-score blend, kept in logit units so P(i|u) stays a softmax of logits. A user with
/// no history has c_u = 0 and s_u = 0 and is served by the hierarchical dimension alone.
/// </remarks>
public sealed class DimensionFusion
{
    private readonly float[] _covarianceE;  // (D, D)

    /// <summary>Σ_E, the covariance of the hierarchical item vectors (D × D), for dimensions rescaled to the same spread.</summary>
    internal float[] CovarianceE => _covarianceE;
    private readonly float[]? _covarianceV; // (r, r)
    private readonly float[]? _covarianceS; // (h, h)

    /// <summary>Prepares the fusion of item vectors <paramref name="itemVectors"/> (items × <paramref name="dimension"/>) with <paramref name="collaborative"/>.</summary>
    /// <param name="itemVectors">The hierarchical model's item vectors E, row-major.</param>
    /// <param name="dimension">D, the width of E.</param>
    /// <param name="collaborative">The collaborative dimension (same catalogue).</param>
    /// <param name="weight">γ ≥ 0, the collaborative dimension's weight relative to the hierarchical one.</param>
    public DimensionFusion(ReadOnlySpan<float> itemVectors, int dimension, CollaborativeDimension collaborative, float weight)
        : this(itemVectors, dimension, collaborative ?? throw new ArgumentNullException(nameof(collaborative)), weight, null, 0f) { }

    /// <summary>Prepares the fusion of item vectors E with a collaborative and a sequential dimension (at least one of them).</summary>
    /// <param name="itemVectors">The hierarchical model's item vectors E, row-major.</param>
    /// <param name="dimension">D, the width of E.</param>
    /// <param name="collaborative">The collaborative dimension, or null.</param>
    /// <param name="weight">γ ≥ 0, the collaborative dimension's weight (ignored without it).</param>
    /// <param name="sequential">The sequential dimension, or null.</param>
    /// <param name="sequentialWeight">γ_s ≥ 0, the sequential dimension's weight (ignored without it).</param>
    public DimensionFusion(ReadOnlySpan<float> itemVectors, int dimension, CollaborativeDimension? collaborative, float weight, SequentialDimension? sequential, float sequentialWeight)
    {
        if (collaborative is null && sequential is null) throw new ArgumentException("A fusion needs a collaborative or a sequential dimension.", nameof(collaborative));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        int items = collaborative?.Items ?? sequential!.Items;
        if (collaborative is not null && sequential is not null && sequential.Items != collaborative.Items)
            throw new ArgumentException($"The sequential dimension has {sequential.Items} items; the collaborative one {collaborative.Items}.", nameof(sequential));
        if (itemVectors.Length != (long)items * dimension)
            throw new ArgumentException($"The item vectors hold {itemVectors.Length} values; {items} items × {dimension} needs {(long)items * dimension}.", nameof(itemVectors));
        CheckWeight(weight, nameof(weight));
        CheckWeight(sequentialWeight, nameof(sequentialWeight));
        Items = items;
        Collaborative = collaborative;
        Sequential = sequential;
        Dimension = dimension;
        Weight = collaborative is null ? 0f : weight;
        SequentialWeight = sequential is null ? 0f : sequentialWeight;
        _covarianceE = Covariance(itemVectors, items, dimension);
        if (collaborative is not null) _covarianceV = Covariance(collaborative.CandidateFactors, items, collaborative.Rank);
        if (sequential is not null) _covarianceS = Covariance(sequential.ItemRows, items, sequential.Width);
    }

    private DimensionFusion(DimensionFusion other, float weight, float sequentialWeight)
    {
        Items = other.Items;
        Collaborative = other.Collaborative;
        Sequential = other.Sequential;
        Dimension = other.Dimension;
        Weight = other.Collaborative is null ? 0f : weight;
        SequentialWeight = other.Sequential is null ? 0f : sequentialWeight;
        _covarianceE = other._covarianceE;
        _covarianceV = other._covarianceV;
        _covarianceS = other._covarianceS;
    }

    /// <summary>The same fusion at collaborative weight <paramref name="weight"/> (the covariances are shared, not recomputed).</summary>
    public DimensionFusion WithWeight(float weight) => WithWeights(weight, SequentialWeight);

    /// <summary>The same fusion at weights <paramref name="weight"/> and <paramref name="sequentialWeight"/> (the covariances are shared).</summary>
    public DimensionFusion WithWeights(float weight, float sequentialWeight)
    {
        CheckWeight(weight, nameof(weight));
        CheckWeight(sequentialWeight, nameof(sequentialWeight));
        return new DimensionFusion(this, weight, sequentialWeight);
    }

    private static void CheckWeight(float weight, string name)
    {
        if (!(weight >= 0) || !float.IsFinite(weight)) throw new ArgumentOutOfRangeException(name, weight, "A dimension's weight γ must be finite and ≥ 0.");
    }

    /// <summary>Catalogue size.</summary>
    public int Items { get; }

    /// <summary>The collaborative dimension, or null.</summary>
    public CollaborativeDimension? Collaborative { get; }

    /// <summary>The sequential dimension, or null.</summary>
    public SequentialDimension? Sequential { get; }

    /// <summary>D, the hierarchical dimension's width.</summary>
    public int Dimension { get; }

    /// <summary>γ, the collaborative dimension's weight (0: not served).</summary>
    public float Weight { get; }

    /// <summary>γ_s, the sequential dimension's weight (0: not served).</summary>
    public float SequentialWeight { get; }

    private int CollaborativeWidth => Collaborative?.Rank ?? 0;

    private int SequentialWidth => Sequential?.Width ?? 0;

    /// <summary>Width of the fused vectors, D + r + h (r, h: 0 for an absent dimension).</summary>
    public int Width => Dimension + CollaborativeWidth + SequentialWidth;

    /// <summary>The fused item rows [E_i ; V_i ; S_i], row-major (items × <see cref="Width"/>).</summary>
    public float[] ItemRows(ReadOnlySpan<float> itemVectors)
    {
        int n = Items, d = Dimension, r = CollaborativeWidth, h = SequentialWidth, w = Width;
        if (itemVectors.Length != (long)n * d) throw new ArgumentException($"The item vectors hold {itemVectors.Length} values; expected {(long)n * d}.", nameof(itemVectors));
        var rows = new float[(long)n * w];
        var v = Collaborative is null ? default : Collaborative.CandidateFactors;
        var s = Sequential is null ? default : Sequential.ItemRows;
        for (int i = 0; i < n; i++)
        {
            itemVectors.Slice(i * d, d).CopyTo(rows.AsSpan(i * w, d));
            if (r > 0) v.Slice(i * r, r).CopyTo(rows.AsSpan(i * w + d, r));
            if (h > 0) s.Slice(i * h, h).CopyTo(rows.AsSpan(i * w + d + r, h));
        }
        return rows;
    }

    /// <summary>The fused query [x_u ; w_u c_u ; v_u s_u] of a user vector and the user's history (most recent first).</summary>
    public float[] Query(ReadOnlySpan<float> userVector, ReadOnlySpan<int> history) => Query(userVector, history, out _);

    /// <summary>As <see cref="Query(ReadOnlySpan{float}, ReadOnlySpan{int})"/>, with w_u.</summary>
    public float[] Query(ReadOnlySpan<float> userVector, ReadOnlySpan<int> history, out float userWeight) => Query(userVector, history, userVector, out userWeight);

    /// <summary>
    /// As <see cref="Query(ReadOnlySpan{float}, ReadOnlySpan{int})"/> for a query vector derived from the user's own
    /// vector <paramref name="spreadOf"/> (a description's steering, say): the weights come from the user's own spread, so
    /// the other dimensions' parts are the same with and without the steering and the difference of scores is the
    /// steering's. <paramref name="sequenceState"/>: s_u when already computed (empty: computed from the history).
    /// </summary>
    public float[] Query(ReadOnlySpan<float> userVector, ReadOnlySpan<int> history, ReadOnlySpan<float> spreadOf, out float userWeight, ReadOnlySpan<float> sequenceState = default)
    {
        if (userVector.Length != Dimension) throw new ArgumentException($"The user vector has {userVector.Length} values; the dimension is {Dimension}.", nameof(userVector));
        if (spreadOf.Length != Dimension) throw new ArgumentException($"The spread vector has {spreadOf.Length} values; the dimension is {Dimension}.", nameof(spreadOf));
        var query = new float[Width];
        userVector.CopyTo(query);
        double scale = HierarchicalScale(spreadOf);
        userWeight = 0f;
        if (Collaborative is not null)
        {
            var c = query.AsSpan(Dimension, CollaborativeWidth);
            Collaborative.UserFactors(history, c);
            userWeight = CollaborativeScale(scale, c);
            TensorPrimitives.Multiply(c, userWeight, c);
        }
        if (Sequential is not null)
        {
            var s = query.AsSpan(Dimension + CollaborativeWidth, SequentialWidth);
            if (history.IsEmpty) return query; // no items, no sequence: served by the other dimensions
            if (sequenceState.IsEmpty) Sequential.UserState(history, s);
            else if (sequenceState.Length != SequentialWidth) throw new ArgumentException($"The sequence state has {sequenceState.Length} values; the sequential dimension's width is {SequentialWidth}.", nameof(sequenceState));
            else sequenceState.CopyTo(s);
            TensorPrimitives.Multiply(s, SequentialScale(scale, s), s);
        }
        return query;
    }

    /// <summary>The hierarchical, collaborative and sequential parts of a fused query's score for an item row of <see cref="ItemRows"/>.</summary>
    public (float Hierarchical, float Collaborative, float Sequential) Parts(ReadOnlySpan<float> query, ReadOnlySpan<float> fusedRow)
    {
        int d = Dimension, r = CollaborativeWidth, h = SequentialWidth;
        return (TensorPrimitives.Dot(query[..d], fusedRow[..d]),
            r > 0 ? TensorPrimitives.Dot(query.Slice(d, r), fusedRow.Slice(d, r)) : 0f,
            h > 0 ? TensorPrimitives.Dot(query.Slice(d + r, h), fusedRow.Slice(d + r, h)) : 0f);
    }

    /// <summary>
    /// Each distinct history item's part w_u ⟨A_j, V_i⟩ of <paramref name="item"/>'s collaborative score, for the user whose
    /// own vector is <paramref name="spreadOf"/> (the parts sum to the collaborative part of the fused score; empty without
    /// a collaborative dimension).
    /// </summary>
    public IReadOnlyList<(int Item, float Part)> HistoryParts(ReadOnlySpan<float> spreadOf, ReadOnlySpan<int> history, int item)
    {
        if (Collaborative is null) return [];
        float w = CollaborativeUserWeight(spreadOf, history);
        var v = Collaborative.CandidateFactors.Slice(item * Collaborative.Rank, Collaborative.Rank);
        var a = Collaborative.HistoryFactors;
        var parts = new List<(int, float)>();
        var seen = new HashSet<int>();
        foreach (int j in history)
            if (seen.Add(j)) parts.Add((j, w * TensorPrimitives.Dot(a.Slice(j * Collaborative.Rank, Collaborative.Rank), v)));
        return parts;
    }

    /// <summary>
    /// v_u, the weight of the sequential state <paramref name="state"/> for the user whose own vector is
    /// <paramref name="spreadOf"/> (0 without a sequential dimension).
    /// </summary>
    public float SequentialUserWeight(ReadOnlySpan<float> spreadOf, ReadOnlySpan<float> state)
    {
        if (Sequential is null) return 0f;
        if (state.Length != SequentialWidth) throw new ArgumentException($"The sequence state has {state.Length} values; the sequential dimension's width is {SequentialWidth}.", nameof(state));
        return SequentialScale(HierarchicalScale(spreadOf), state);
    }

    /// <summary>σ_E of the user's own vector, the unit every other block is rescaled to; a user whose hierarchical scores do not vary at all (σ_E = 0) gets the other dimensions' z-scores at weight γ.</summary>
    private double HierarchicalScale(ReadOnlySpan<float> spreadOf)
    {
        double spreadE = Spread(spreadOf, _covarianceE, Dimension);
        return spreadE > 0 ? spreadE : 1.0;
    }

    /// <summary>w_u = γ σ_E / σ_V(c_u) (0 when c_u's scores do not vary).</summary>
    private float CollaborativeScale(double scale, ReadOnlySpan<float> factors)
    {
        double spreadV = Spread(factors, _covarianceV!, CollaborativeWidth);
        return spreadV > 0 ? (float)(Weight * scale / spreadV) : 0f;
    }

    /// <summary>v_u = γ_s σ_E / σ_S(s_u) (0 when s_u's scores do not vary).</summary>
    private float SequentialScale(double scale, ReadOnlySpan<float> state)
    {
        double spreadS = Spread(state, _covarianceS!, SequentialWidth);
        return spreadS > 0 ? (float)(SequentialWeight * scale / spreadS) : 0f;
    }

    private float CollaborativeUserWeight(ReadOnlySpan<float> spreadOf, ReadOnlySpan<int> history)
    {
        var c = new float[CollaborativeWidth];
        Collaborative!.UserFactors(history, c);
        return CollaborativeScale(HierarchicalScale(spreadOf), c);
    }

    internal static double Spread(ReadOnlySpan<float> x, float[] covariance, int width)
    {
        double q = 0;
        for (int a = 0; a < width; a++)
            q += x[a] * (double)TensorPrimitives.Dot(covariance.AsSpan(a * width, width), x);
        return q > 0 ? Math.Sqrt(q) : 0;
    }

    /// <summary>Σ = (1/n) Σ_i (row_i − mean)(row_i − mean)ᵀ in double, stored as float (width × width).</summary>
    internal static float[] Covariance(ReadOnlySpan<float> rows, int n, int width)
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

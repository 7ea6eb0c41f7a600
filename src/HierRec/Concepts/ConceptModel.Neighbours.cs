using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace HierRec.Concepts;

/// <summary>
/// Text cold start from like-minded users: a newcomer known only by a description is served what the training users
/// whose own descriptions are most like it chose (user-based collaborative filtering, with the neighbours found in
/// the concept space rather than by shared items).
/// </summary>
public sealed partial class ConceptModel
{
    private float[]? _descriptionVectors;
    private (IReadOnlyList<int[]> Histories, float[] Counts)? _describedCounts; // per item: how many described users have it in those histories (the tie-break)

    /// <summary>
    /// D_u: per training user (row = the recommender's dense user index), the unit-length mean of the unit C⁺ of the
    /// user's descriptions; a zero row for a user without one. Null: no neighbours (folders saved before format 4).
    /// </summary>
    public float[]? DescriptionVectors
    {
        get => _descriptionVectors;
        internal set
        {
            if (value is not null && value.Length % Dimension != 0)
                throw new ArgumentException($"Description vectors must be users × {Dimension} values; got {value.Length}.", nameof(value));
            _descriptionVectors = value;
            _describedCounts = null;
        }
    }

    /// <summary>Users <see cref="DescriptionVectors"/> has rows for (0 without them).</summary>
    public int DescribedUserRows => _descriptionVectors is null ? 0 : _descriptionVectors.Length / Dimension;

    /// <summary>
    /// k of text cold start's like-minded users (<see cref="NeighbourScores"/>): when above 0, <c>RecommendFromDescription</c>
    /// ranks by what the k training users with the most similar descriptions chose, instead of steering x_∅ towards C⁺.
    /// 0: off. Chosen on validation (<see cref="ConceptOptions.ColdNeighbours"/>).
    /// </summary>
    public int ColdNeighbours { get; set; }

    /// <summary>
    /// The like-minded users' scores of every item for <paramref name="concept"/>: s_i = Σ_v max(0, cos(C⁺, D_v)) over the
    /// <paramref name="neighbours"/> users v most similar to the description who have item i in
    /// <paramref name="histories"/>, plus a tie-break below any such share by how many described users have i. Null when
    /// the description has no positive side or the model has no description vectors.
    /// </summary>
    /// <param name="concept">The newcomer's description.</param>
    /// <param name="histories">Per training user, the items they have (the recommender's training histories).</param>
    /// <param name="neighbours">k (default <see cref="ColdNeighbours"/>).</param>
    /// <param name="exclude">A user never taken as a neighbour (calibration's stand-in newcomer itself), or −1.</param>
    public float[]? NeighbourScores(ConceptVector concept, IReadOnlyList<int[]> histories, int? neighbours = null, int exclude = -1)
    {
        ArgumentNullException.ThrowIfNull(concept);
        ArgumentNullException.ThrowIfNull(histories);
        int k = neighbours ?? ColdNeighbours;
        ArgumentOutOfRangeException.ThrowIfNegative(k, nameof(neighbours));
        if (k == 0 || concept.Positive is null || _descriptionVectors is null) return null;
        int users = DescribedUserRows, d = Dimension;
        if (histories.Count != users)
            throw new ArgumentException($"{histories.Count} histories for description vectors of {users} users.", nameof(histories));
        var query = ConceptFilter.Normalized(concept.Positive);
        var similarity = new float[users];
        for (int u = 0; u < users; u++) similarity[u] = u == exclude ? 0 : TensorPrimitives.Dot(query, _descriptionVectors.AsSpan(u * d, d));
        var scores = new float[ItemCount];
        foreach (var (v, s) in Nearest(similarity, k))
            foreach (int i in histories[v])
                if ((uint)i < (uint)scores.Length) scores[i] += s;
        var cached = _describedCounts;
        if (cached is not { } c || !ReferenceEquals(c.Histories, histories)) _describedCounts = cached = (histories, DescribedCounts(histories));
        var counts = cached.Value.Counts;
        for (int i = 0; i < scores.Length; i++) scores[i] += counts[i];
        return scores;
    }

    /// <summary>The (at most) k users of highest positive similarity, highest first (ties to the lower index).</summary>
    private static (int User, float Similarity)[] Nearest(float[] similarity, int k)
    {
        var heap = new PriorityQueue<int, (float S, int Negative)>();
        for (int u = 0; u < similarity.Length; u++)
        {
            float s = similarity[u];
            if (!(s > 0)) continue;
            if (heap.Count < k) heap.Enqueue(u, (s, -u));
            else if (heap.TryPeek(out _, out var worst) && (s > worst.S || s == worst.S && -u > worst.Negative)) heap.EnqueueDequeue(u, (s, -u));
        }
        var result = new (int, float)[heap.Count];
        for (int r = result.Length - 1; r >= 0; r--)
        {
            heap.TryDequeue(out int u, out var p);
            result[r] = (u, p.S);
        }
        return result;
    }

    /// <summary>Per item, its count among the described users, scaled below 10⁻³ (a share of one neighbour at cosine 0.001).</summary>
    private float[] DescribedCounts(IReadOnlyList<int[]> histories)
    {
        var counts = new float[ItemCount];
        int d = Dimension;
        for (int u = 0; u < DescribedUserRows; u++)
        {
            if (TensorPrimitives.MaxMagnitude(_descriptionVectors.AsSpan(u * d, d)) == 0) continue;
            foreach (int i in histories[u])
                if ((uint)i < (uint)counts.Length) counts[i]++;
        }
        float max = counts.Length == 0 ? 0 : TensorPrimitives.Max(counts);
        if (max > 0) TensorPrimitives.Multiply(counts, 1e-3f / (max + 1), counts);
        return counts;
    }

    /// <summary>
    /// D_u for every user with descriptions: the unit mean of the unit C⁺ of their descriptions with a positive side
    /// (zero rows for the others).
    /// </summary>
    internal float[] BuildDescriptionVectors(IReadOnlyList<IReadOnlyList<string>?> descriptions)
    {
        int d = Dimension;
        var rows = new float[descriptions.Count * d];
        var sum = new float[d];
        for (int u = 0; u < descriptions.Count; u++)
        {
            if (descriptions[u] is not { Count: > 0 } list) continue;
            Array.Clear(sum);
            int used = 0;
            foreach (var text in list)
                if (Describe(text).Positive is { } p)
                {
                    TensorPrimitives.Add(sum, ConceptFilter.Normalized(p), sum);
                    used++;
                }
            if (used > 0) ConceptFilter.Normalized(sum).CopyTo(rows, u * d);
        }
        return rows;
    }
}

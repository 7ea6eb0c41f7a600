using HierRec.Ranking;
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
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(concept);
        ArgumentNullException.ThrowIfNull(histories);
        int k = neighbours ?? ColdNeighbours;
        ArgumentOutOfRangeException.ThrowIfNegative(k, nameof(neighbours));
        return k == 0 ? null : NeighbourScoresAt(concept, histories, [k], exclude)?[0];
    }

    /// <summary>
    /// <see cref="NeighbourScores(ConceptVector, IReadOnlyList{int[]}, int?, int)"/> at each k of <paramref name="ks"/>
    /// (ascending, each above 0) from one similarity pass: the nearest describers are found once, for the largest k, and
    /// each smaller k's scores are a prefix of theirs.
    /// </summary>
    internal float[][]? NeighbourScoresAt(ConceptVector concept, IReadOnlyList<int[]> histories, ReadOnlySpan<int> ks, int exclude = -1)
    {
        ThrowIfDisposed();
        if (concept.Positive is null || _descriptionVectors is null) return null;
        int users = DescribedUserRows, d = Dimension;
        if (histories.Count != users)
            throw new ArgumentException($"{histories.Count} histories for description vectors of {users} users.", nameof(histories));
        var query = ConceptFilter.Normalized(concept.Positive);
        int most = Math.Min(ks[^1], users);
        var heap = new TopKHeap(new float[most], new int[most], most);
        for (int u = 0; u < users; u++)
        {
            float s = u == exclude ? 0 : TensorPrimitives.Dot(query, _descriptionVectors.AsSpan(u * d, d));
            if (s > 0 && heap.Accepts(s, u)) heap.Push(s, u);
        }
        var similarity = new float[most];
        var near = new int[most];
        int found = heap.DrainSorted(similarity, near); // most similar first, ties to the lower index
        var counts = TieBreak(histories);
        var running = new float[ItemCount];
        var result = new float[ks.Length][];
        int taken = 0;
        for (int a = 0; a < ks.Length; a++)
        {
            for (int upTo = Math.Min(ks[a], found); taken < upTo; taken++)
                foreach (int i in histories[near[taken]])
                    if ((uint)i < (uint)running.Length) running[i] += similarity[taken];
            var scores = result[a] = new float[running.Length];
            TensorPrimitives.Add(running, counts, scores);
        }
        return result;
    }

    /// <summary>The tie-break of <paramref name="histories"/>, computed once per list.</summary>
    private float[] TieBreak(IReadOnlyList<int[]> histories)
    {
        var cached = _describedCounts;
        if (cached is not { } c || !ReferenceEquals(c.Histories, histories)) _describedCounts = cached = (histories, DescribedCounts(histories));
        return cached.Value.Counts;
    }

    /// <summary>Whether user <paramref name="u"/> has a description vector (a non-zero row).</summary>
    /// <remarks>
    /// <c>TensorPrimitives.MaxMagnitude</c> returns the largest-magnitude value with its sign, so its absolute value is
    /// tested: a row led by a negative value is described too (it was not, before 2026-12-07, which left out about half
    /// of the describers from the tie-break and from the count that caps calibration's k).
    /// </remarks>
    internal bool IsDescribed(int u) => MathF.Abs(TensorPrimitives.MaxMagnitude(_descriptionVectors.AsSpan(u * Dimension, Dimension))) > 0;

    /// <summary>Per item, its count among the described users, scaled below 10⁻³ (a share of one neighbour at cosine 0.001).</summary>
    private float[] DescribedCounts(IReadOnlyList<int[]> histories)
    {
        var counts = new float[ItemCount];
        for (int u = 0; u < DescribedUserRows; u++)
        {
            if (!IsDescribed(u)) continue;
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

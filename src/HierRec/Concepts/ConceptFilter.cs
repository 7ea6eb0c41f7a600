using System.Numerics.Tensors;
using HierRec.Ranking;

namespace HierRec.Concepts;

/// <summary>
/// The concept filter, consulted by the ranker during its scan: an item is kept only if sim(C⁺, P_i) ≥ θ (when the
/// description has positive clauses) and dropped if sim(C⁻, P_i) ≥ θ⁻ (when it has negative ones); sim is the cosine.
/// With the catalogue's <see cref="ItemWords"/>, an item whose text names a word of a negative clause is dropped too.
/// </summary>
/// <remarks>Immutable and thread-safe.</remarks>
public sealed class ConceptFilter : ItemFilter
{
    private readonly float[] _normalizedItems; // (items, D), rows of unit length (zero rows stay zero)
    private readonly float[]? _positive, _negative;
    private readonly int _dimension;
    private readonly IReadOnlyCollection<int>? _mentioned; // items whose text names a rejected word (the lexical guard)

    internal ConceptFilter(float[] normalizedItems, int dimension, float[]? positive, float[]? negative, float positiveThreshold, float negativeThreshold,
        IReadOnlyCollection<int>? rejectedByText = null)
    {
        _mentioned = rejectedByText is { Count: > 0 } ? rejectedByText : null;
        _normalizedItems = normalizedItems;
        _dimension = dimension;
        _positive = positive is null || float.IsNegativeInfinity(positiveThreshold) ? null : Normalized(positive);
        _negative = negative is null || float.IsPositiveInfinity(negativeThreshold) ? null : Normalized(negative);
        PositiveThreshold = positiveThreshold;
        NegativeThreshold = negativeThreshold;
    }

    /// <summary>θ.</summary>
    public float PositiveThreshold { get; }

    /// <summary>θ⁻.</summary>
    public float NegativeThreshold { get; }

    /// <summary>Whether the filter can remove anything (false when both sides are absent or switched off).</summary>
    public bool IsActive => _positive is not null || _negative is not null || _mentioned is not null;

    /// <summary>Items removed because their own text names a word the description rejects (see <see cref="ItemWords"/>).</summary>
    public int RejectedByText => _mentioned?.Count ?? 0;

    /// <inheritdoc/>
    public override bool Allows(int itemIndex)
    {
        if (_mentioned is not null && _mentioned.Contains(itemIndex)) return false;
        if (_positive is not null && PositiveSimilarity(itemIndex) < PositiveThreshold) return false;
        return _negative is null || NegativeSimilarity(itemIndex) < NegativeThreshold;
    }

    /// <summary>sim(C⁺, P_i), or NaN without a positive side.</summary>
    public float PositiveSimilarity(int itemIndex) => _positive is null ? float.NaN : TensorPrimitives.Dot(_positive, Row(itemIndex));

    /// <summary>sim(C⁻, P_i), or NaN without a negative side.</summary>
    public float NegativeSimilarity(int itemIndex) => _negative is null ? float.NaN : TensorPrimitives.Dot(_negative, Row(itemIndex));

    private ReadOnlySpan<float> Row(int item) => _normalizedItems.AsSpan(item * _dimension, _dimension);

    internal static float[] Normalized(ReadOnlySpan<float> v)
    {
        var r = v.ToArray();
        float norm = TensorPrimitives.Norm(r);
        if (norm > 0) TensorPrimitives.Divide(r, norm, r);
        return r;
    }
}

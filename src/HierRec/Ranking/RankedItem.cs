namespace HierRec.Ranking;

/// <summary>One recommended item: its position in the index, its score and its probability under the softmax.</summary>
/// <param name="ItemIndex">Dense index of the item in the <see cref="ItemIndex"/>.</param>
/// <param name="Score">The similarity (dot product or cosine), exact float32 even for quantised indexes.</param>
/// <param name="Probability">P(i|u) = exp(score/T) / Σ_j exp(score_j/T) over the whole catalogue (see <see cref="RankOptions"/>).</param>
public readonly record struct RankedItem(int ItemIndex, float Score, float Probability);

/// <summary>How item vectors are stored and scanned.</summary>
public enum VectorPrecision
{
    /// <summary>4 bytes a value; exact.</summary>
    Float32,

    /// <summary>2 bytes a value; the top candidates are re-ranked in float32.</summary>
    Float16,

    /// <summary>1 byte a value with a per-item scale; the top candidates are re-ranked in float32.</summary>
    Int8,
}

/// <summary>The similarity the index ranks by.</summary>
public enum Similarity
{
    /// <summary>⟨q, x⟩.</summary>
    DotProduct,

    /// <summary>⟨q, x⟩ / (|q| |x|); zero vectors score 0.</summary>
    Cosine,
}

/// <summary>Decides during the scan whether an item may be returned.</summary>
/// <remarks>
/// Filters are consulted only for items whose score would enter the current top k, so a filter costs little even
/// when it is slow; they never change the probabilities' denominator (which is over the whole catalogue).
/// Implementations must be thread-safe if one filter is shared by concurrent queries.
/// </remarks>
public abstract class ItemFilter
{
    /// <summary>Whether <paramref name="itemIndex"/> may be returned.</summary>
    public abstract bool Allows(int itemIndex);

    /// <summary>Excludes the given items (for example what the user has already seen).</summary>
    public static ItemFilter Exclude(IEnumerable<int> items) => new SetFilter(items, allow: false);

    /// <summary>Allows only the given items.</summary>
    public static ItemFilter AllowOnly(IEnumerable<int> items) => new SetFilter(items, allow: true);

    /// <summary>Allows the items for which <paramref name="predicate"/> returns true.</summary>
    public static ItemFilter Where(Func<int, bool> predicate) => new PredicateFilter(predicate);

    /// <summary>Allows an item only if every filter allows it.</summary>
    public static ItemFilter All(params ItemFilter[] filters) => new AllFilter(filters);

    private sealed class SetFilter : ItemFilter
    {
        private readonly int[] _sorted;
        private readonly bool _allow;

        public SetFilter(IEnumerable<int> items, bool allow)
        {
            ArgumentNullException.ThrowIfNull(items);
            _sorted = items.Distinct().Order().ToArray();
            _allow = allow;
        }

        public override bool Allows(int itemIndex) => (Array.BinarySearch(_sorted, itemIndex) >= 0) == _allow;
    }

    private sealed class PredicateFilter(Func<int, bool> predicate) : ItemFilter
    {
        private readonly Func<int, bool> _predicate = predicate ?? throw new ArgumentNullException(nameof(predicate));

        public override bool Allows(int itemIndex) => _predicate(itemIndex);
    }

    private sealed class AllFilter : ItemFilter
    {
        private readonly ItemFilter[] _filters;

        public AllFilter(ItemFilter[] filters)
        {
            ArgumentNullException.ThrowIfNull(filters);
            _filters = filters.Where(f => f is not null).ToArray();
        }

        public override bool Allows(int itemIndex)
        {
            foreach (var f in _filters) if (!f.Allows(itemIndex)) return false;
            return true;
        }
    }
}

/// <summary>Options of one ranking request. Defaults: temperature 1, no filter, no score threshold, automatic threads.</summary>
public sealed class RankOptions
{
    /// <summary>Softmax temperature T in P(i|u) ∝ exp(score/T); must be positive. Default 1.</summary>
    public float Temperature { get; init; } = 1f;

    /// <summary>Items the filter rejects are never returned. Default none.</summary>
    public ItemFilter? Filter { get; init; }

    /// <summary>Items scoring below this are never returned. Default none.</summary>
    public float MinScore { get; init; } = float.NegativeInfinity;

    /// <summary>Threads that scan the catalogue: 0 picks 1 for small catalogues and all cores for large ones.</summary>
    public int Threads { get; init; }

    /// <summary>
    /// For Float16 and Int8 indexes: how many approximate candidates are re-scored in float32. 0 picks
    /// max(4·k, k + 64). Larger pools raise recall against the exact ranking.
    /// </summary>
    public int RerankPool { get; init; }

    internal static readonly RankOptions Default = new();

    internal void Validate()
    {
        if (!(Temperature > 0) || float.IsInfinity(Temperature))
            throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, "Temperature must be a positive finite number.");
        ArgumentOutOfRangeException.ThrowIfNegative(Threads, nameof(Threads));
        ArgumentOutOfRangeException.ThrowIfNegative(RerankPool, nameof(RerankPool));
        if (float.IsNaN(MinScore)) throw new ArgumentOutOfRangeException(nameof(MinScore), "MinScore must not be NaN.");
    }
}

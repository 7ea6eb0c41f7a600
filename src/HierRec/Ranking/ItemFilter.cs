namespace HierRec.Ranking;

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

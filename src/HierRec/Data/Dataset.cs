namespace HierRec.Data;

/// <summary>One user-item event: dense ids, a value (rating, play count, 1 for implicit) and a Unix timestamp (0 if unknown).</summary>
/// <param name="User">Dense user id.</param>
/// <param name="Item">Dense item id.</param>
/// <param name="Value">Rating, weight or 1.</param>
/// <param name="Timestamp">Seconds since the Unix epoch, or 0 when the source has none.</param>
public readonly record struct Interaction(int User, int Item, float Value, long Timestamp);

/// <summary>A bidirectional map between external ids (as written in the source files) and dense ids 0..Count−1.</summary>
/// <remarks>Not thread-safe while being built; safe for concurrent reads afterwards.</remarks>
public sealed class IdMap
{
    private readonly Dictionary<string, int> _toDense = new(StringComparer.Ordinal);
    private readonly List<string> _toExternal = [];

    /// <summary>Number of ids.</summary>
    public int Count => _toExternal.Count;

    /// <summary>External ids in dense order.</summary>
    public IReadOnlyList<string> External => _toExternal;

    /// <summary>The dense id of <paramref name="external"/>, adding it if new.</summary>
    public int GetOrAdd(string external)
    {
        ArgumentNullException.ThrowIfNull(external);
        if (_toDense.TryGetValue(external, out int id)) return id;
        id = _toExternal.Count;
        _toDense.Add(external, id);
        _toExternal.Add(external);
        return id;
    }

    /// <summary>Looks up a dense id.</summary>
    public bool TryGetDense(string external, out int dense) => _toDense.TryGetValue(external, out dense);

    /// <summary>The dense id of an external id that must exist.</summary>
    /// <exception cref="KeyNotFoundException">The id is unknown.</exception>
    public int this[string external] => _toDense.TryGetValue(external, out int d) ? d : throw new KeyNotFoundException($"Unknown id '{external}'.");

    /// <summary>The external id of a dense id.</summary>
    public string ToExternal(int dense) => _toExternal[dense];
}

/// <summary>
/// Side information about users or items, column by column: categorical values (one string per entity, null when
/// missing), numeric values (NaN when missing), text (free text per entity) and multi-valued tags (genres, tags).
/// </summary>
public sealed class FeatureTable
{
    private readonly Dictionary<string, string?[]> _categorical = new(StringComparer.Ordinal);
    private readonly Dictionary<string, float[]> _numeric = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string?[]> _text = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string[][]> _tags = new(StringComparer.Ordinal);

    /// <summary>Creates an empty table for <paramref name="count"/> entities.</summary>
    public FeatureTable(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Count = count;
    }

    /// <summary>Number of entities (rows).</summary>
    public int Count { get; private set; }

    /// <summary>Names of the categorical columns.</summary>
    public IEnumerable<string> CategoricalColumns => _categorical.Keys;

    /// <summary>Names of the numeric columns.</summary>
    public IEnumerable<string> NumericColumns => _numeric.Keys;

    /// <summary>Names of the text columns.</summary>
    public IEnumerable<string> TextColumns => _text.Keys;

    /// <summary>Names of the multi-valued tag columns.</summary>
    public IEnumerable<string> TagColumns => _tags.Keys;

    /// <summary>A categorical column (created empty on first use).</summary>
    public string?[] Categorical(string name) => Column(_categorical, name, () => new string?[Count]);

    /// <summary>A numeric column (created as NaN on first use).</summary>
    public float[] Numeric(string name) => Column(_numeric, name, () => Enumerable.Repeat(float.NaN, Count).ToArray());

    /// <summary>A text column (created empty on first use).</summary>
    public string?[] Text(string name) => Column(_text, name, () => new string?[Count]);

    /// <summary>A tag column (created with empty tag lists on first use).</summary>
    public string[][] Tags(string name) => Column(_tags, name, () => Enumerable.Repeat(Array.Empty<string>(), Count).ToArray());

    /// <summary>Whether a column of any kind exists.</summary>
    public bool Has(string name) => _categorical.ContainsKey(name) || _numeric.ContainsKey(name) || _text.ContainsKey(name) || _tags.ContainsKey(name);

    /// <summary>Grows every column to <paramref name="count"/> rows (new rows are missing values).</summary>
    public void Resize(int count)
    {
        if (count < Count) throw new ArgumentOutOfRangeException(nameof(count), "A feature table can only grow.");
        foreach (var k in _categorical.Keys.ToList()) { var a = _categorical[k]; Array.Resize(ref a, count); _categorical[k] = a; }
        foreach (var k in _text.Keys.ToList()) { var a = _text[k]; Array.Resize(ref a, count); _text[k] = a; }
        foreach (var k in _numeric.Keys.ToList())
        {
            var a = _numeric[k];
            int old = a.Length;
            Array.Resize(ref a, count);
            a.AsSpan(old).Fill(float.NaN);
            _numeric[k] = a;
        }
        foreach (var k in _tags.Keys.ToList())
        {
            var a = _tags[k];
            int old = a.Length;
            Array.Resize(ref a, count);
            a.AsSpan(old).Fill([]);
            _tags[k] = a;
        }
        Count = count;
    }

    private static T Column<T>(Dictionary<string, T> columns, string name, Func<T> create)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (!columns.TryGetValue(name, out var column)) columns[name] = column = create();
        return column;
    }
}

/// <summary>
/// An in-memory recommendation dataset: interactions over dense user and item ids, user and item side information,
/// and a social graph between users.
/// </summary>
public sealed class Dataset
{
    /// <summary>Creates a dataset; the feature tables are resized to the id maps.</summary>
    public Dataset(string name, IdMap users, IdMap items, IReadOnlyList<Interaction> interactions,
        FeatureTable? userFeatures = null, FeatureTable? itemFeatures = null, IReadOnlyList<(int A, int B)>? socialEdges = null)
    {
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(interactions);
        Name = name;
        Users = users;
        Items = items;
        Interactions = interactions;
        UserFeatures = userFeatures ?? new FeatureTable(users.Count);
        ItemFeatures = itemFeatures ?? new FeatureTable(items.Count);
        if (UserFeatures.Count < users.Count) UserFeatures.Resize(users.Count);
        if (ItemFeatures.Count < items.Count) ItemFeatures.Resize(items.Count);
        SocialEdges = socialEdges ?? [];
        foreach (var x in interactions)
        {
            if ((uint)x.User >= (uint)users.Count || (uint)x.Item >= (uint)items.Count)
                throw new ArgumentException($"Interaction ({x.User}, {x.Item}) is outside {users.Count} users × {items.Count} items.", nameof(interactions));
        }
        foreach (var (a, b) in SocialEdges)
        {
            if ((uint)a >= (uint)users.Count || (uint)b >= (uint)users.Count)
                throw new ArgumentException($"Social edge ({a}, {b}) is outside the {users.Count} users.", nameof(socialEdges));
        }
    }

    /// <summary>A short name ("ml-100k").</summary>
    public string Name { get; }

    /// <summary>User ids.</summary>
    public IdMap Users { get; }

    /// <summary>Item ids.</summary>
    public IdMap Items { get; }

    /// <summary>All interactions, in source order.</summary>
    public IReadOnlyList<Interaction> Interactions { get; }

    /// <summary>User side information (age, gender, occupation, zip, …).</summary>
    public FeatureTable UserFeatures { get; }

    /// <summary>Item side information (title, genres, tags, …).</summary>
    public FeatureTable ItemFeatures { get; }

    /// <summary>Directed user-user edges (symmetric sources list both directions).</summary>
    public IReadOnlyList<(int A, int B)> SocialEdges { get; }

    /// <summary>Number of users.</summary>
    public int UserCount => Users.Count;

    /// <summary>Number of items.</summary>
    public int ItemCount => Items.Count;

    /// <summary>A copy with other interactions (same ids, features and graph): filtering and splitting produce these.</summary>
    public Dataset WithInteractions(IReadOnlyList<Interaction> interactions, string? name = null) =>
        new(name ?? Name, Users, Items, interactions, UserFeatures, ItemFeatures, SocialEdges);

    /// <summary>Friends of every user, from <see cref="SocialEdges"/> (sorted, without duplicates).</summary>
    public int[][] FriendLists()
    {
        var lists = Enumerable.Range(0, UserCount).Select(_ => new SortedSet<int>()).ToArray();
        foreach (var (a, b) in SocialEdges)
        {
            if (a == b) continue;
            lists[a].Add(b);
        }
        return lists.Select(s => s.ToArray()).ToArray();
    }
}

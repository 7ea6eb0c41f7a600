namespace HierRec.Data;

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

    /// <summary>A categorical column.</summary>
    /// <exception cref="KeyNotFoundException">No categorical column has that name; the message lists the columns there are.</exception>
    public string?[] Categorical(string name) => Existing(_categorical, name, "categorical");

    /// <summary>A numeric column (NaN where missing).</summary>
    /// <exception cref="KeyNotFoundException">No numeric column has that name; the message lists the columns there are.</exception>
    public float[] Numeric(string name) => Existing(_numeric, name, "numeric");

    /// <summary>A text column.</summary>
    /// <exception cref="KeyNotFoundException">No text column has that name; the message lists the columns there are.</exception>
    public string?[] Text(string name) => Existing(_text, name, "text");

    /// <summary>A tag column.</summary>
    /// <exception cref="KeyNotFoundException">No tag column has that name; the message lists the columns there are.</exception>
    public string[][] Tags(string name) => Existing(_tags, name, "tag");

    /// <summary>The categorical column <paramref name="name"/>, created empty (every value missing) if it does not exist.</summary>
    public string?[] AddCategorical(string name) => Create(_categorical, name, () => new string?[Count]);

    /// <summary>The numeric column <paramref name="name"/>, created as NaN if it does not exist.</summary>
    public float[] AddNumeric(string name) => Create(_numeric, name, () => Enumerable.Repeat(float.NaN, Count).ToArray());

    /// <summary>The text column <paramref name="name"/>, created empty if it does not exist.</summary>
    public string?[] AddText(string name) => Create(_text, name, () => new string?[Count]);

    /// <summary>The tag column <paramref name="name"/>, created with empty tag lists if it does not exist.</summary>
    public string[][] AddTags(string name) => Create(_tags, name, () => Enumerable.Repeat(Array.Empty<string>(), Count).ToArray());

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

    private static T Create<T>(Dictionary<string, T> columns, string name, Func<T> create)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (!columns.TryGetValue(name, out var column)) columns[name] = column = create();
        return column;
    }

    private T Existing<T>(Dictionary<string, T> columns, string name, string kind)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (columns.TryGetValue(name, out var column)) return column;
        string Names(IEnumerable<string> keys) => keys.Any() ? string.Join(", ", keys.Order(StringComparer.Ordinal)) : "none";
        throw new KeyNotFoundException($"No {kind} column '{name}'. Categorical: {Names(_categorical.Keys)}; numeric: {Names(_numeric.Keys)}; text: {Names(_text.Keys)}; tags: {Names(_tags.Keys)}.");
    }
}

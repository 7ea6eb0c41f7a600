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

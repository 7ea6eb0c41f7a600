namespace HierRec.Data;

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

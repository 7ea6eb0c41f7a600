namespace HierRec.Serialization;

/// <summary>
/// Consistency checks of a saved manifest against itself, before anything is built from it: every failure is an
/// <see cref="InvalidDataException"/> naming the file and the field (with the offending index).
/// </summary>
internal readonly struct ManifestChecks(string path)
{
    public InvalidDataException Error(string field, string problem) => new($"{path}: {field} {problem}");

    public void Count(string field, int value, int max = int.MaxValue)
    {
        if (value < 0 || value > max) throw Error(field, $"is {value}; it must be in [0, {max}].");
    }

    public T[] Required<T>(string field, T[]? values, int length) where T : class
    {
        if (values is null) throw Error(field, "is missing.");
        if (values.Length != length) throw Error(field, $"has {values.Length} entries; the manifest declares {length}.");
        for (int i = 0; i < values.Length; i++)
            if (values[i] is null) throw Error($"{field}[{i}]", "is null.");
        return values;
    }

    public void Length<T>(string field, T[]? values, int length, bool optional = false)
    {
        if (values is null)
        {
            if (optional) return;
            throw Error(field, "is missing.");
        }
        if (values.Length != length) throw Error(field, $"has {values.Length} entries; the manifest declares {length}.");
    }

    /// <summary>Ids: as many as declared, none null or empty, none repeated (a repeat would shift every later id).</summary>
    public void UniqueIds(string field, string[]? ids, int count)
    {
        Required(field, ids, count);
        var seen = new Dictionary<string, int>(ids!.Length, StringComparer.Ordinal);
        for (int i = 0; i < ids.Length; i++)
        {
            if (ids[i].Length == 0) throw Error($"{field}[{i}]", "is empty.");
            if (!seen.TryAdd(ids[i], i)) throw Error($"{field}[{i}]", $"'{SafeTensors.Excerpt(ids[i])}' repeats {field}[{seen[ids[i]]}].");
        }
    }

    /// <summary>Lists of indices (histories, neighbours): one per owner, every index in [0, bound).</summary>
    public void Indices(string field, int[][]? lists, int owners, int bound, string boundName, bool optional = false)
    {
        if (lists is null)
        {
            if (optional) return;
            throw Error(field, "is missing.");
        }
        if (lists.Length != owners) throw Error(field, $"has {lists.Length} entries; the manifest declares {owners}.");
        for (int i = 0; i < lists.Length; i++)
        {
            if (lists[i] is null) throw Error($"{field}[{i}]", "is null.");
            for (int j = 0; j < lists[i].Length; j++)
                if ((uint)lists[i][j] >= (uint)bound) throw Error($"{field}[{i}][{j}]", $"is {lists[i][j]}, outside [0, {bound}) ({boundName}).");
        }
    }

    /// <summary>The bytes a file must hold at least, checked against its real length before memory is committed.</summary>
    public static void Holds(string file, long neededBytes, string what)
    {
        long length = File.Exists(file) ? new FileInfo(file).Length : 0;
        if (length < neededBytes)
            throw new InvalidDataException($"{file}: {length} bytes cannot hold {what} ({neededBytes} bytes at float32): the manifest and the weights disagree.");
    }
}

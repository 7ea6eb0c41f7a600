namespace HierRec.Data;

/// <summary>
/// Loads a dataset from delimited files with a column mapping: interactions, and optionally item text, user features
/// and a social graph. When an item (user) file is given, an interaction naming an item (user) it lacks is an error.
/// </summary>
public static class DelimitedDatasetLoader
{
    /// <summary>Loads the files.</summary>
    /// <exception cref="DataFormatException">A malformed line or an unknown column (strict mode), naming file, line and column.</exception>
    public static Dataset Load(string name, DelimitedFile interactions, InteractionColumns interactionColumns,
        (DelimitedFile File, ItemColumns Columns)? items = null, (DelimitedFile File, UserColumns Columns)? users = null,
        (DelimitedFile File, EdgeColumns Columns)? edges = null, LoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(interactions);
        ArgumentNullException.ThrowIfNull(interactionColumns);
        options ??= LoadOptions.Default;
        var itemMap = new IdMap();
        var userMap = new IdMap();
        var itemFeatures = new FeatureTable(0);
        var userFeatures = new FeatureTable(0);

        if (items is { } it)
        {
            var rows = ReadAll(it.File, options, out var resolve);
            int idCol = resolve(it.Columns.Item);
            var text = it.Columns.Text.Select(c => (c, resolve(c))).ToArray();
            var tags = (it.Columns.Tags ?? []).Select(c => (c, resolve(c))).ToArray();
            var valid = new List<(string[] F, long Line)>();
            foreach (var (f, line) in rows)
            {
                if (itemMap.TryGetDense(f[idCol], out _))
                {
                    options.Fail(new DataFormatException(it.File.Path, line, idCol + 1, $"item '{f[idCol]}' is listed twice"));
                    continue;
                }
                itemMap.GetOrAdd(f[idCol]);
                valid.Add((f, line));
            }
            itemFeatures.Resize(itemMap.Count);
            for (int r = 0; r < valid.Count; r++)
            {
                foreach (var (c, k) in text) itemFeatures.Text(c)[r] = valid[r].F[k];
                foreach (var (c, k) in tags) itemFeatures.Tags(c)[r] = valid[r].F[k].Split(it.Columns.TagSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            }
        }
        if (users is { } us)
        {
            var rows = ReadAll(us.File, options, out var resolve);
            int idCol = resolve(us.Columns.User);
            var cat = (us.Columns.Categorical ?? []).Select(c => (c, resolve(c))).ToArray();
            var num = (us.Columns.Numeric ?? []).Select(c => (c, resolve(c))).ToArray();
            var valid = new List<(string[] F, long Line, float[] Nums)>();
            foreach (var (f, line) in rows)
            {
                var nums = new float[num.Length];
                bool ok = true;
                for (int j = 0; j < num.Length && ok; j++)
                {
                    string v = f[num[j].Item2];
                    if (v.Length == 0) nums[j] = float.NaN;
                    else if (!float.TryParse(v, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out nums[j]))
                    {
                        options.Fail(new DataFormatException(us.File.Path, line, num[j].Item2 + 1, $"'{v}' is not a number"));
                        ok = false;
                    }
                }
                if (!ok) continue;
                if (userMap.TryGetDense(f[idCol], out _))
                {
                    options.Fail(new DataFormatException(us.File.Path, line, idCol + 1, $"user '{f[idCol]}' is listed twice"));
                    continue;
                }
                userMap.GetOrAdd(f[idCol]);
                valid.Add((f, line, nums));
            }
            userFeatures.Resize(userMap.Count);
            for (int r = 0; r < valid.Count; r++)
            {
                foreach (var (c, k) in cat) userFeatures.Categorical(c)[r] = valid[r].F[k].Length == 0 ? null : valid[r].F[k];
                for (int j = 0; j < num.Length; j++) userFeatures.Numeric(num[j].c)[r] = valid[r].Nums[j];
            }
        }
        bool closedItems = items is not null, closedUsers = users is not null;
        var list = new List<Interaction>();
        {
            var rows = ReadAll(interactions, options, out var resolve);
            int uc = resolve(interactionColumns.User), ic = resolve(interactionColumns.Item);
            int vc = interactionColumns.Value is null ? -1 : resolve(interactionColumns.Value);
            int tc = interactionColumns.Timestamp is null ? -1 : resolve(interactionColumns.Timestamp);
            foreach (var (f, line) in rows)
            {
                int u, i;
                if (closedUsers ? !userMap.TryGetDense(f[uc], out u) : (u = userMap.GetOrAdd(f[uc])) < 0)
                {
                    options.Fail(new DataFormatException(interactions.Path, line, uc + 1, $"user '{f[uc]}' is not in the user file"));
                    continue;
                }
                if (closedItems ? !itemMap.TryGetDense(f[ic], out i) : (i = itemMap.GetOrAdd(f[ic])) < 0)
                {
                    options.Fail(new DataFormatException(interactions.Path, line, ic + 1, $"item '{f[ic]}' is not in the item file"));
                    continue;
                }
                float value = 1;
                long ts = 0;
                if (vc >= 0 && !float.TryParse(f[vc], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out value))
                {
                    options.Fail(new DataFormatException(interactions.Path, line, vc + 1, $"'{f[vc]}' is not a number"));
                    continue;
                }
                if (tc >= 0 && !long.TryParse(f[tc], System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out ts))
                {
                    options.Fail(new DataFormatException(interactions.Path, line, tc + 1, $"'{f[tc]}' is not an integer timestamp"));
                    continue;
                }
                list.Add(new Interaction(u, i, value, ts));
            }
        }
        var edgeList = new List<(int, int)>();
        if (edges is { } ed)
        {
            var rows = ReadAll(ed.File, options, out var resolve);
            int ac = resolve(ed.Columns.A), bc = resolve(ed.Columns.B);
            foreach (var (f, line) in rows)
            {
                int a = userMap.GetOrAdd(f[ac]), b = userMap.GetOrAdd(f[bc]);
                edgeList.Add((a, b));
                if (ed.Columns.Symmetric) edgeList.Add((b, a));
            }
        }
        return new Dataset(name, userMap, itemMap, list, userFeatures, itemFeatures, edgeList.Distinct().ToList());
    }

    /// <summary>Reads every record, checking the field count against the header (or the first record).</summary>
    private static List<(string[] Fields, long Line)> ReadAll(DelimitedFile file, LoadOptions options, out Func<string, int> resolve)
    {
        System.Text.Encoding encoding;
        try
        {
            encoding = DelimitedReader.ResolveEncoding(file.Encoding);
        }
        catch (ArgumentException ex)
        {
            throw new DataFormatException(file.Path, 0, 0, $"unknown encoding '{file.Encoding}'", ex);
        }
        using var r = new DelimitedReader(file.Path, file.Delimiter, encoding, file.Quoting);
        string[]? header = null;
        var rows = new List<(string[], long)>();
        int width = -1;
        if (file.HasHeader)
        {
            if (!r.Read(out header)) throw new DataFormatException(file.Path, 0, 0, "the file is empty but a header was expected");
            width = header.Length;
        }
        while (r.Read(out var f))
        {
            if (width < 0) width = f.Length;
            if (f.Length != width)
            {
                options.Fail(new DataFormatException(file.Path, r.Line, 0, $"expected {width} fields, found {f.Length}"));
                continue;
            }
            rows.Add((f, r.Line));
        }
        var names = header;
        int w = width;
        resolve = column =>
        {
            if (column.StartsWith('#') && int.TryParse(column.AsSpan(1), out int k) && k >= 0 && (w < 0 || k < w)) return k;
            int idx = names is null ? -1 : Array.IndexOf(names, column);
            if (idx < 0) throw new DataFormatException(file.Path, 1, 0, $"no column '{column}' (columns: {(names is null ? $"#0..#{w - 1}" : string.Join(", ", names))})");
            return idx;
        };
        return rows;
    }
}

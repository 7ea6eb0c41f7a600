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
        return Load(name, RecordTable.FromFile(interactions), interactionColumns,
            items is { } i ? (RecordTable.FromFile(i.File), i.Columns) : null, users is { } u ? (RecordTable.FromFile(u.File), u.Columns) : null,
            edges is { } e ? (RecordTable.FromFile(e.File), e.Columns) : null, options);
    }

    /// <summary>The same load over any tables of records (files, or database readers through <see cref="DataReaderDatasetLoader"/>).</summary>
    internal static Dataset Load(string name, RecordTable interactions, InteractionColumns interactionColumns,
        (RecordTable File, ItemColumns Columns)? items = null, (RecordTable File, UserColumns Columns)? users = null,
        (RecordTable File, EdgeColumns Columns)? edges = null, LoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(interactions);
        ArgumentNullException.ThrowIfNull(interactionColumns);
        options ??= LoadOptions.Default;
        options.Validate();
        var itemMap = new IdMap();
        var userMap = new IdMap();
        var itemFeatures = new FeatureTable(0);
        var userFeatures = new FeatureTable(0);

        if (items is { } it)
        {
            var rows = it.File.ReadAll(options, out var resolve);
            int idCol = resolve(it.Columns.Item);
            Normalize(rows, options, idCol);
            var text = it.Columns.Text.Select(c => (c, resolve(c))).ToArray();
            var tags = (it.Columns.Tags ?? []).Select(c => (c, resolve(c))).ToArray();
            var valid = new List<(string?[] F, long Line)>();
            foreach (var (f, line) in rows)
            {
                if (f[idCol] is null)
                {
                    options.Fail(new DataFormatException(it.File.Name, line, idCol + 1, "the item id is NULL"));
                    continue;
                }
                if (itemMap.TryGetDense(f[idCol]!, out _))
                {
                    options.Fail(new DataFormatException(it.File.Name, line, idCol + 1, $"item {DataFormatException.Quote(f[idCol])} is listed twice"));
                    continue;
                }
                itemMap.GetOrAdd(f[idCol]!);
                valid.Add((f, line));
            }
            itemFeatures.Resize(itemMap.Count);
            foreach (var (c, _) in text) itemFeatures.AddText(c);
            foreach (var (c, _) in tags) itemFeatures.AddTags(c);
            for (int r = 0; r < valid.Count; r++)
            {
                foreach (var (c, k) in text) itemFeatures.AddText(c)[r] = valid[r].F[k];
                foreach (var (c, k) in tags) itemFeatures.AddTags(c)[r] = (valid[r].F[k] ?? "").Split(it.Columns.TagSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            }
        }
        if (users is { } us)
        {
            var rows = us.File.ReadAll(options, out var resolve);
            int idCol = resolve(us.Columns.User);
            Normalize(rows, options, idCol);
            var cat = (us.Columns.Categorical ?? []).Select(c => (c, resolve(c))).ToArray();
            var num = (us.Columns.Numeric ?? []).Select(c => (c, resolve(c))).ToArray();
            var valid = new List<(string?[] F, long Line, float[] Nums)>();
            foreach (var (f, line) in rows)
            {
                var nums = new float[num.Length];
                bool ok = true;
                for (int j = 0; j < num.Length && ok; j++)
                {
                    string? v = f[num[j].Item2];
                    if (string.IsNullOrEmpty(v)) nums[j] = float.NaN;
                    else if (!float.TryParse(v, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out nums[j]) || !float.IsFinite(nums[j]))
                    {
                        options.Fail(new DataFormatException(us.File.Name, line, num[j].Item2 + 1, $"{DataFormatException.Quote(v)} is not a finite number (leave the field empty for a missing value)"));
                        ok = false;
                    }
                }
                if (!ok) continue;
                if (f[idCol] is null)
                {
                    options.Fail(new DataFormatException(us.File.Name, line, idCol + 1, "the user id is NULL"));
                    continue;
                }
                if (userMap.TryGetDense(f[idCol]!, out _))
                {
                    options.Fail(new DataFormatException(us.File.Name, line, idCol + 1, $"user {DataFormatException.Quote(f[idCol])} is listed twice"));
                    continue;
                }
                userMap.GetOrAdd(f[idCol]!);
                valid.Add((f, line, nums));
            }
            userFeatures.Resize(userMap.Count);
            foreach (var (c, _) in cat) userFeatures.AddCategorical(c);
            foreach (var (c, _) in num) userFeatures.AddNumeric(c);
            for (int r = 0; r < valid.Count; r++)
            {
                foreach (var (c, k) in cat) userFeatures.AddCategorical(c)[r] = string.IsNullOrEmpty(valid[r].F[k]) ? null : valid[r].F[k];
                for (int j = 0; j < num.Length; j++) userFeatures.AddNumeric(num[j].c)[r] = valid[r].Nums[j];
            }
        }
        bool closedItems = items is not null, closedUsers = users is not null;
        var list = new List<Interaction>();
        {
            var rows = interactions.ReadAll(options, out var resolve);
            int uc = resolve(interactionColumns.User), ic = resolve(interactionColumns.Item);
            Normalize(rows, options, uc, ic);
            int vc = interactionColumns.Value is null ? -1 : resolve(interactionColumns.Value);
            int tc = interactionColumns.Timestamp is null ? -1 : resolve(interactionColumns.Timestamp);
            foreach (var (f, line) in rows)
            {
                int u, i;
                if (f[uc] is null || f[ic] is null)
                {
                    options.Fail(new DataFormatException(interactions.Name, line, (f[uc] is null ? uc : ic) + 1, $"the {(f[uc] is null ? "user" : "item")} id is NULL"));
                    continue;
                }
                if (closedUsers ? !userMap.TryGetDense(f[uc]!, out u) : (u = userMap.GetOrAdd(f[uc]!)) < 0)
                {
                    options.Fail(new DataFormatException(interactions.Name, line, uc + 1, $"user {DataFormatException.Quote(f[uc])} is not in the user file"));
                    continue;
                }
                if (closedItems ? !itemMap.TryGetDense(f[ic]!, out i) : (i = itemMap.GetOrAdd(f[ic]!)) < 0)
                {
                    options.Fail(new DataFormatException(interactions.Name, line, ic + 1, $"item {DataFormatException.Quote(f[ic])} is not in the item file"));
                    continue;
                }
                float value = 1;
                long ts = 0;
                if (vc >= 0 && (!float.TryParse(f[vc] ?? "", System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out value) || !float.IsFinite(value)))
                {
                    options.Fail(new DataFormatException(interactions.Name, line, vc + 1, $"{DataFormatException.Quote(f[vc])} is not a finite number"));
                    continue;
                }
                if (tc >= 0 && !long.TryParse(f[tc] ?? "", System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out ts))
                {
                    options.Fail(new DataFormatException(interactions.Name, line, tc + 1, $"{DataFormatException.Quote(f[tc])} is not an integer timestamp"));
                    continue;
                }
                list.Add(new Interaction(u, i, value, ts));
            }
        }
        var edgeList = new List<(int, int)>();
        if (edges is { } ed)
        {
            var rows = ed.File.ReadAll(options, out var resolve);
            int ac = resolve(ed.Columns.A), bc = resolve(ed.Columns.B);
            Normalize(rows, options, ac, bc);
            foreach (var (f, line) in rows)
            {
                if (f[ac] is null || f[bc] is null)
                {
                    options.Fail(new DataFormatException(ed.File.Name, line, (f[ac] is null ? ac : bc) + 1, "a user id is NULL"));
                    continue;
                }
                int a = userMap.GetOrAdd(f[ac]!), b = userMap.GetOrAdd(f[bc]!);
                edgeList.Add((a, b));
                if (ed.Columns.Symmetric) edgeList.Add((b, a));
            }
        }
        return new Dataset(name, userMap, itemMap, list, userFeatures, itemFeatures, edgeList.Distinct().ToList());
    }

    private static void Normalize(List<(string?[] Fields, long Line)> rows, LoadOptions options, params int[] columns)
    {
        if (options.Ids == IdNormalization.Exact) return;
        foreach (var (f, _) in rows)
            foreach (int c in columns) f[c] = options.NormalizeId(f[c]);
    }
}

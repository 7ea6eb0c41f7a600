using System.Text;

namespace HierRec.Data;

/// <summary>MovieLens-100K (GroupLens): <c>u.data</c>, <c>u.item</c> (Latin-1, 19 genre flags), <c>u.user</c>, <c>u.genre</c>.</summary>
/// <remarks>
/// Items carry <c>title</c> (text), <c>genres</c> (tags, named from <c>u.genre</c>) and <c>year</c> (numeric, NaN when the
/// release date is missing); users carry <c>age</c> (numeric), <c>gender</c>, <c>occupation</c> and <c>zip</c>
/// (categorical). Interaction values are the 1–5 ratings; timestamps are Unix seconds. The licence forbids
/// redistribution: read the files from where the user keeps them.
/// </remarks>
public static class MovieLens100K
{
    /// <summary>Loads the dataset from <paramref name="folder"/>.</summary>
    /// <exception cref="DataFormatException">A missing file or a malformed line (in strict mode), naming file, line and column.</exception>
    public static Dataset Load(string folder, LoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        options ??= LoadOptions.Default;
        options.Validate();
        var genres = ReadGenres(Path.Combine(folder, "u.genre"), options);
        var items = new IdMap();
        var itemTitles = new List<string?>();
        var itemGenres = new List<string[]>();
        var itemYears = new List<float>();
        using (var r = new DelimitedReader(Path.Combine(folder, "u.item"), '|', Encoding.Latin1, quoting: false, options: options))
        {
            while (r.Read(out var f))
            {
                if (!Fields.Count(r, f, 5 + genres.Length, options)) continue;
                if (!Fields.Int(r, f, 0, options, out _)) continue;
                if (items.TryGetDense(f[0], out _))
                {
                    options.Fail(new DataFormatException(r.File, r.Line, 1, $"item {f[0]} is listed twice"));
                    continue;
                }
                var g = new List<string>();
                bool ok = true;
                for (int j = 0; j < genres.Length; j++)
                {
                    string flag = f[5 + j];
                    if (flag == "1") g.Add(genres[j]);
                    else if (flag != "0")
                    {
                        options.Fail(new DataFormatException(r.File, r.Line, 6 + j, $"genre flag '{flag}' is not 0 or 1"));
                        ok = false;
                        break;
                    }
                }
                if (!ok) continue;
                items.GetOrAdd(f[0]);
                itemTitles.Add(f[1]);
                itemGenres.Add(g.ToArray());
                itemYears.Add(ParseYear(f[2]));
            }
        }
        var users = new IdMap();
        var ages = new List<float>();
        var genders = new List<string?>();
        var occupations = new List<string?>();
        var zips = new List<string?>();
        using (var r = new DelimitedReader(Path.Combine(folder, "u.user"), '|', Encoding.Latin1, quoting: false, options: options))
        {
            while (r.Read(out var f))
            {
                if (!Fields.Count(r, f, 5, options) || !Fields.Int(r, f, 0, options, out _) || !Fields.Int(r, f, 1, options, out int age)) continue;
                if (users.TryGetDense(f[0], out _))
                {
                    options.Fail(new DataFormatException(r.File, r.Line, 1, $"user {f[0]} is listed twice"));
                    continue;
                }
                users.GetOrAdd(f[0]);
                ages.Add(age);
                genders.Add(f[2]);
                occupations.Add(f[3]);
                zips.Add(f[4]);
            }
        }
        var interactions = new List<Interaction>(100_000);
        using (var r = new DelimitedReader(Path.Combine(folder, "u.data"), '\t', Encoding.Latin1, quoting: false, options: options))
        {
            while (r.Read(out var f))
            {
                if (!Fields.Count(r, f, 4, options)) continue;
                if (!users.TryGetDense(f[0], out int u))
                {
                    options.Fail(new DataFormatException(r.File, r.Line, 1, $"user {f[0]} is not in u.user"));
                    continue;
                }
                if (!items.TryGetDense(f[1], out int i))
                {
                    options.Fail(new DataFormatException(r.File, r.Line, 2, $"item {f[1]} is not in u.item"));
                    continue;
                }
                if (!Fields.Float(r, f, 2, options, out float rating) || !Fields.Long(r, f, 3, options, out long ts)) continue;
                interactions.Add(new Interaction(u, i, rating, ts));
            }
        }
        var itemFeatures = new FeatureTable(items.Count);
        itemTitles.CopyTo(itemFeatures.AddText("title"));
        itemGenres.CopyTo(itemFeatures.AddTags("genres"));
        itemYears.CopyTo(itemFeatures.AddNumeric("year"));
        var userFeatures = new FeatureTable(users.Count);
        ages.CopyTo(userFeatures.AddNumeric("age"));
        genders.CopyTo(userFeatures.AddCategorical("gender"));
        occupations.CopyTo(userFeatures.AddCategorical("occupation"));
        zips.CopyTo(userFeatures.AddCategorical("zip"));
        return new Dataset("ml-100k", users, items, interactions, userFeatures, itemFeatures);
    }

    private static string[] ReadGenres(string path, LoadOptions options)
    {
        var byIndex = new SortedDictionary<int, string>();
        using var r = new DelimitedReader(path, '|', Encoding.Latin1, quoting: false, options: options);
        while (r.Read(out var f))
        {
            if (!Fields.Count(r, f, 2, options) || !Fields.Int(r, f, 1, options, out int index)) continue;
            byIndex[index] = f[0];
        }
        if (byIndex.Count == 0 || byIndex.Keys.First() != 0 || byIndex.Keys.Last() != byIndex.Count - 1)
        {
            throw new DataFormatException(path, 0, 0, "genre indexes are not 0..n-1");
        }
        return byIndex.Values.ToArray();
    }

    private static float ParseYear(string date)
    {
        // "01-Jan-1995"; empty for a few films.
        int dash = date.LastIndexOf('-');
        return dash >= 0 && int.TryParse(date.AsSpan(dash + 1), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int y) ? y : float.NaN;
    }
}

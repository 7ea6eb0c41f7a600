using System.Text;

namespace HierRec.Data;

/// <summary>
/// HetRec 2011 Last.fm-2K: <c>user_artists.dat</c> (listen counts), <c>user_friends.dat</c> (friendships, both
/// directions listed), <c>artists.dat</c> (names, UTF-8) and <c>tags.dat</c> (the tag vocabulary, Latin-1).
/// </summary>
/// <remarks>
/// Items carry <c>name</c> (text). The tag-assignment files are not part of the copy this loader targets, so tags
/// cannot be attached to artists; <see cref="ReadTags"/> reads the vocabulary. Interaction values are listen counts;
/// timestamps are 0 (the source has none). Licence: non-commercial use.
/// </remarks>
public static class LastFm2K
{
    /// <summary>Loads the dataset from <paramref name="folder"/>.</summary>
    /// <exception cref="DataFormatException">A missing file or a malformed line (in strict mode).</exception>
    public static Dataset Load(string folder, LoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        options ??= LoadOptions.Default;
        options.Validate();
        var items = new IdMap();
        var names = new List<string?>();
        using (var r = new DelimitedReader(Path.Combine(folder, "artists.dat"), '\t', quoting: false, options: options))
        {
            ExpectHeader(r, "id", options);
            while (r.Read(out var f))
            {
                if (f.Length < 2)
                {
                    options.Fail(new DataFormatException(r.File, r.Line, 0, $"expected at least 2 fields, found {f.Length}"));
                    continue;
                }
                if (!Fields.Int(r, f, 0, options, out _)) continue;
                if (items.TryGetDense(f[0], out _))
                {
                    options.Fail(new DataFormatException(r.File, r.Line, 1, $"artist {f[0]} is listed twice"));
                    continue;
                }
                items.GetOrAdd(f[0]);
                names.Add(f[1]);
            }
        }
        var users = new IdMap();
        var interactions = new List<Interaction>(93_000);
        using (var r = new DelimitedReader(Path.Combine(folder, "user_artists.dat"), '\t', quoting: false, options: options))
        {
            ExpectHeader(r, "userID", options);
            while (r.Read(out var f))
            {
                if (!Fields.Count(r, f, 3, options) || !Fields.Int(r, f, 0, options, out _)) continue;
                if (!items.TryGetDense(f[1], out int item))
                {
                    options.Fail(new DataFormatException(r.File, r.Line, 2, $"artist {f[1]} is not in artists.dat"));
                    continue;
                }
                if (!Fields.Float(r, f, 2, options, out float weight)) continue;
                interactions.Add(new Interaction(users.GetOrAdd(f[0]), item, weight, 0));
            }
        }
        var edges = new List<(int, int)>();
        using (var r = new DelimitedReader(Path.Combine(folder, "user_friends.dat"), '\t', quoting: false, options: options))
        {
            ExpectHeader(r, "userID", options);
            while (r.Read(out var f))
            {
                if (!Fields.Count(r, f, 2, options) || !Fields.Int(r, f, 0, options, out _) || !Fields.Int(r, f, 1, options, out _)) continue;
                // Friends who never listened to anything still belong to the graph: they get ids too.
                edges.Add((users.GetOrAdd(f[0]), users.GetOrAdd(f[1])));
            }
        }
        var itemFeatures = new FeatureTable(items.Count);
        names.CopyTo(itemFeatures.AddText("name"));
        return new Dataset("lastfm-2k", users, items, interactions, null, itemFeatures, edges);
    }

    /// <summary>The tag vocabulary of <c>tags.dat</c> (Latin-1, CRLF).</summary>
    public static IReadOnlyList<(int Id, string Tag)> ReadTags(string folder, LoadOptions? options = null)
    {
        options ??= LoadOptions.Default;
        var tags = new List<(int, string)>();
        using var r = new DelimitedReader(Path.Combine(folder, "tags.dat"), '\t', Encoding.Latin1, quoting: false, options: options);
        ExpectHeader(r, "tagID", options);
        while (r.Read(out var f))
        {
            if (!Fields.Count(r, f, 2, options) || !Fields.Int(r, f, 0, options, out int id)) continue;
            tags.Add((id, f[1]));
        }
        return tags;
    }

    private static void ExpectHeader(DelimitedReader r, string first, LoadOptions options)
    {
        if (!r.Read(out var f) || f.Length == 0 || f[0] != first)
        {
            throw new DataFormatException(r.File, r.Line, 1, $"expected a header starting with '{first}'");
        }
    }
}

using HierRec.Data;

namespace HierRec.Evaluation;

/// <summary>
/// The generator of interest descriptions for evaluation (issue 7), from the training split only: for each user, the
/// liked tags are the two with the highest lift s_g / p_g (s_g: share of the user's training interactions carrying tag
/// g, p_g: share of all training interactions carrying it) among tags the user met at least twice; the disliked tag is
/// the common tag (p_g ≥ 5%) with the lowest lift, if that lift is at most 0.3. The taste is then written in several
/// English and Chinese phrasings.
/// </summary>
public static class TagDescriptions
{
    /// <summary>Chinese names of the MovieLens genres and the synthetic dataset's categories.</summary>
    public static IReadOnlyDictionary<string, string> ChineseNames { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["Action"] = "动作", ["Adventure"] = "冒险", ["Animation"] = "动画", ["Children's"] = "儿童", ["Comedy"] = "喜剧",
        ["Crime"] = "犯罪", ["Documentary"] = "纪录", ["Drama"] = "剧情", ["Fantasy"] = "奇幻", ["Film-Noir"] = "黑色",
        ["Horror"] = "恐怖", ["Musical"] = "歌舞", ["Mystery"] = "悬疑", ["Romance"] = "爱情", ["Sci-Fi"] = "科幻",
        ["Thriller"] = "惊悚", ["War"] = "战争", ["Western"] = "西部", ["unknown"] = "未知", ["science"] = "科学",
    };

    /// <summary>English phrasings: {0} and {1} are liked tags, {2} the disliked one.</summary>
    public static IReadOnlyList<(string Both, string LikesOnly)> English { get; } =
    [
        ("likes {0} and {1}, dislikes {2}", "likes {0} and {1}"),
        ("I love {0} and {1} films but I hate {2}", "I love {0} and {1} films"),
        ("Big fan of {0} and {1}. Please no {2}.", "Big fan of {0} and {1}."),
        ("I enjoy {0} movies and {1} movies; I avoid {2}", "I enjoy {0} movies and {1} movies"),
    ];

    /// <summary>Chinese phrasings.</summary>
    public static IReadOnlyList<(string Both, string LikesOnly)> Chinese { get; } =
    [
        ("喜欢{0}和{1}电影，讨厌{2}电影", "喜欢{0}和{1}电影"),
        ("我爱看{0}片和{1}片，但不喜欢{2}片", "我爱看{0}片和{1}片"),
        ("最爱{0}、{1}，不要{2}", "最爱{0}、{1}"),
    ];

    /// <summary>Each user's taste from the tags of <paramref name="tagColumn"/> over <paramref name="train"/>'s interactions.</summary>
    public static TagTaste?[] Tastes(Dataset train, string tagColumn = "genres")
    {
        ArgumentNullException.ThrowIfNull(train);
        if (!train.ItemFeatures.TagColumns.Contains(tagColumn)) throw new ArgumentException($"{train.Name} has no tag column '{tagColumn}'.", nameof(tagColumn));
        var tags = train.ItemFeatures.Tags(tagColumn);
        var global = new Dictionary<string, int>();
        var perUser = Enumerable.Range(0, train.UserCount).Select(_ => new Dictionary<string, int>()).ToArray();
        var count = new int[train.UserCount];
        foreach (var x in train.Interactions)
        {
            count[x.User]++;
            foreach (var g in tags[x.Item].Where(g => !g.Contains('/')))
            {
                global[g] = global.GetValueOrDefault(g) + 1;
                perUser[x.User][g] = perUser[x.User].GetValueOrDefault(g) + 1;
            }
        }
        double total = train.Interactions.Count;
        var result = new TagTaste?[train.UserCount];
        for (int u = 0; u < train.UserCount; u++)
        {
            if (count[u] == 0) continue;
            double Lift(string g) => perUser[u].GetValueOrDefault(g) / (double)count[u] / (global[g] / total);
            var liked = perUser[u].Where(p => p.Value >= 2).Select(p => p.Key).OrderByDescending(Lift).ThenBy(g => g, StringComparer.Ordinal).Take(2).ToArray();
            if (liked.Length == 0) continue;
            var disliked = global.Where(p => p.Value / total >= 0.05 && !liked.Contains(p.Key)).Select(p => p.Key)
                .OrderBy(Lift).ThenBy(g => g, StringComparer.Ordinal).FirstOrDefault(g => Lift(g) <= 0.3);
            result[u] = new TagTaste(liked, disliked);
        }
        return result;
    }

    /// <summary>All phrasings of a taste, English then Chinese (a single liked tag is written twice as one).</summary>
    public static IReadOnlyList<string> Phrasings(TagTaste taste, bool english = true, bool chinese = true)
    {
        ArgumentNullException.ThrowIfNull(taste);
        var list = new List<string>();
        string a = taste.Liked[0], b = taste.Liked.Count > 1 ? taste.Liked[1] : taste.Liked[0];
        string Zh(string g) => ChineseNames.TryGetValue(g, out var z) ? z : g;
        if (english)
            foreach (var (both, likes) in English)
                list.Add(taste.Disliked is null ? string.Format(likes, a, b) : string.Format(both, a, b, taste.Disliked));
        if (chinese)
            foreach (var (both, likes) in Chinese)
                list.Add(taste.Disliked is null ? string.Format(likes, Zh(a), Zh(b)) : string.Format(both, Zh(a), Zh(b), Zh(taste.Disliked)));
        return list;
    }
}

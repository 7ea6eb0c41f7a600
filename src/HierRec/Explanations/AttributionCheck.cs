
namespace HierRec.Explanations;

/// <summary>Measures whether attributions are faithful, rather than assuming it.</summary>
public static class AttributionCheck
{
    /// <summary>
    /// The deletion test: for each user, explain the user's top-1 recommendation, remove the <paramref name="remove"/>
    /// history items with the largest attributions and re-score the item; compare the drop with removing the items of
    /// largest attention weight and with removing random items. A faithful attribution gives the largest drop.
    /// </summary>
    /// <param name="recommender">A fitted recommender.</param>
    /// <param name="userIds">Users to test.</param>
    /// <param name="remove">History items removed per user.</param>
    /// <param name="minHistory">Users with shorter histories are skipped.</param>
    /// <param name="seed">Seed of the random removals.</param>
    public static DeletionTestResult Deletion(HierarchicalRecommender recommender, IEnumerable<string> userIds, int remove = 3, int minHistory = 10, ulong seed = 1)
    {
        ArgumentNullException.ThrowIfNull(recommender);
        ArgumentNullException.ThrowIfNull(userIds);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(remove);
        ArgumentOutOfRangeException.ThrowIfLessThan(minHistory, remove + 1);
        return Run(userIds, remove, seed, id =>
        {
            int u = recommender.UserMap[id];
            var history = recommender.Context.Histories[u].Take(recommender.Model.Options.MaxHistory).ToArray();
            if (history.Length < minHistory) return null;
            var best = recommender.Recommend(id, 1);
            if (best.Count == 0) return null;
            int item = best[0].ItemIndex;
            var why = recommender.Explain(id, best[0].ItemId);
            if (why.HistoryAttributions.Count == 0) return null;
            return new Trial<int>(history,
                why.HistoryAttributions.OrderByDescending(a => a.Value).Select(a => recommender.ItemMap[a.Id]),
                why.HistoryAttention.Select(a => recommender.ItemMap[a.Id]),
                kept => recommender.ScoreWithHistory(u, kept, item));
        });
    }

    /// <summary>
    /// The deletion test for friends: for each user with at least <paramref name="remove"/> + 1 friends, remove the
    /// <paramref name="remove"/> friends with the largest attributions from the top-1 recommendation's explanation, or as
    /// many at random, and compare the score drops. (One friend alone would pass by construction: a friend's attribution
    /// is its leave-one-out drop; removing two tests whether the drops add up.)
    /// </summary>
    public static DeletionTestResult FriendDeletion(HierarchicalRecommender recommender, IEnumerable<string> userIds, int remove = 2, ulong seed = 1)
    {
        ArgumentNullException.ThrowIfNull(recommender);
        ArgumentNullException.ThrowIfNull(userIds);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(remove);
        return Run(userIds, remove, seed, id =>
        {
            int u = recommender.UserMap[id];
            var friends = recommender.Context.Neighbours[u];
            if (friends.Length <= remove) return null;
            var best = recommender.Recommend(id, 1);
            if (best.Count == 0) return null;
            int item = best[0].ItemIndex;
            var why = recommender.Explain(id, best[0].ItemId);
            if (why.FriendAttributions.Count <= remove) return null;
            return new Trial<int>(friends,
                why.FriendAttributions.OrderByDescending(a => a.Value).Select(a => recommender.UserMap[a.Id]),
                why.FriendAttention.Select(a => recommender.UserMap[a.Id]),
                kept => recommender.ScoreWithFriends(u, kept, item));
        });
    }

    /// <summary>
    /// The deletion test for text cold start's words: for each description, take <see cref="HierarchicalRecommender.RecommendFromDescription"/>'s
    /// top-1 item and <see cref="HierarchicalRecommender.ExplainFromDescription"/>'s word attributions, delete the
    /// <paramref name="remove"/> words with the largest attributions from the description, the most attended ones or as
    /// many random ones, and compare how much that item's score falls. Descriptions of fewer than
    /// <paramref name="remove"/> + 2 attributed words are skipped.
    /// </summary>
    public static DeletionTestResult ColdWordDeletion(HierarchicalRecommender recommender, IEnumerable<string> descriptions, int remove = 2, ulong seed = 1)
    {
        ArgumentNullException.ThrowIfNull(recommender);
        ArgumentNullException.ThrowIfNull(descriptions);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(remove);
        if (recommender.Concepts is null) throw new InvalidOperationException("No concept model: call FitConcepts first.");
        return Run(descriptions, remove, seed, description =>
        {
            var best = recommender.RecommendFromDescription(description, 1);
            if (best.Count == 0) return null;
            var why = recommender.ExplainFromDescription(description, best[0].ItemId).Concept;
            if (why?.WordAttributions is not { } words || words.Count < remove + 2) return null;
            var parts = words.Select(w => w.Token).Distinct().ToArray();
            bool likeMinded = recommender.UsesLikeMinded(recommender.Describe(description)); // the shortened descriptions stay on its path
            return new Trial<string>(parts,
                words.OrderByDescending(w => w.Weight).Select(w => w.Token),
                why.PositiveTokens.OrderByDescending(w => w.Weight).Select(w => w.Token).Where(parts.Contains),
                kept => recommender.ColdScore(Without(description, parts.Where(p => !kept.Contains(p))), best[0].ItemIndex, likeMinded));
        });
    }

    /// <summary>The description with the first occurrence of each of <paramref name="gone"/> deleted.</summary>
    private static string Without(string description, IEnumerable<string> gone)
    {
        string text = description;
        foreach (var word in gone)
        {
            int at = text.IndexOf(word, StringComparison.Ordinal);
            if (at >= 0) text = text.Remove(at, word.Length);
        }
        return text;
    }

    /// <summary>One case of a deletion test: the parts, in attribution and attention order, and the score with some of them kept.</summary>
    private sealed record Trial<T>(T[] Parts, IEnumerable<T> ByAttribution, IEnumerable<T> ByAttention, Func<T[], double> ScoreKeeping);

    /// <summary>The shared loop: per case, the score drop when the top-attributed, the most attended or random parts are removed.</summary>
    private static DeletionTestResult Run<T>(IEnumerable<string> ids, int remove, ulong seed, Func<string, Trial<T>?> trial)
    {
        var rng = new Rng(seed);
        int cases = 0, wins = 0;
        double top = 0, attention = 0, random = 0;
        foreach (var id in ids)
        {
            if (trial(id) is not { } t) continue;
            double full = t.ScoreKeeping(t.Parts);
            double Drop(IEnumerable<T> removed)
            {
                var gone = removed.Take(remove).ToHashSet();
                return full - t.ScoreKeeping(t.Parts.Where(p => !gone.Contains(p)).ToArray());
            }
            var shuffled = t.Parts.ToArray();
            rng.Shuffle(shuffled.AsSpan());
            double dTop = Drop(t.ByAttribution), dRandom = Drop(shuffled);
            top += dTop;
            attention += Drop(t.ByAttention);
            random += dRandom;
            if (dTop > dRandom) wins++;
            cases++;
        }
        return cases == 0 ? new DeletionTestResult(0, remove, double.NaN, double.NaN, double.NaN, double.NaN)
            : new DeletionTestResult(cases, remove, top / cases, attention / cases, random / cases, wins / (double)cases);
    }

    /// <summary>
    /// The deletion test for a description's words: for each (user, description), take the described top-1 item and
    /// its explanation's word attributions, delete the <paramref name="remove"/> words with the largest attributions
    /// from the description, or as many random words, and compare how much the steering part of that item's score
    /// drops. (One word would pass by construction, its attribution being its leave-one-out drop; two test whether the
    /// drops add up.) Descriptions of fewer than <paramref name="remove"/> + 2 words are skipped.
    /// </summary>
    public static DeletionTestResult WordDeletion(HierarchicalRecommender recommender, IEnumerable<(string UserId, string Description)> described, int remove = 2, ulong seed = 1)
    {
        ArgumentNullException.ThrowIfNull(recommender);
        ArgumentNullException.ThrowIfNull(described);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(remove);
        var concepts = recommender.Concepts ?? throw new InvalidOperationException("No concept model: call FitConcepts first.");
        var rng = new Rng(seed);
        int users = 0, wins = 0;
        double top = 0, attention = 0, random = 0;
        int d = recommender.Model.Options.Dimension;
        var rows = recommender.ItemRows.ToArray(); // the steering acts in the hierarchical dimension
        foreach (var (id, description) in described)
        {
            var best = recommender.Recommend(id, description, 1);
            if (best.Count == 0) continue;
            var why = recommender.Explain(id, best[0].ItemId, description).Concept;
            if (why?.WordAttributions is not { } words || words.Count < remove + 2) continue;
            var user = recommender.HierarchicalUserVector(id);
            var item = rows.AsSpan(best[0].ItemIndex * d, d).ToArray();
            double Steering(string text) =>
                System.Numerics.Tensors.TensorPrimitives.Dot(concepts.Steer(user, concepts.Describe(text)), item) - System.Numerics.Tensors.TensorPrimitives.Dot(user, item);
            double full = Steering(description);
            var shuffled = words.Select(w => w.Token).ToArray();
            rng.Shuffle(shuffled.AsSpan());
            double dTop = full - Steering(Without(description, words.OrderByDescending(w => w.Weight).Take(remove).Select(w => w.Token)));
            double dAttention = full - Steering(Without(description, why.PositiveTokens.OrderByDescending(w => w.Weight).Take(remove).Select(w => w.Token)));
            double dRandom = full - Steering(Without(description, shuffled.Take(remove)));
            top += dTop;
            attention += dAttention;
            random += dRandom;
            if (dTop > dRandom) wins++;
            users++;
        }
        return users == 0 ? new DeletionTestResult(0, remove, double.NaN, double.NaN, double.NaN, double.NaN)
            : new DeletionTestResult(users, remove, top / users, attention / users, random / users, wins / (double)users);
    }
}

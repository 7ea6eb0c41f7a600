
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
        var rng = new Rng(seed);
        int users = 0, wins = 0;
        double top = 0, attention = 0, random = 0;
        foreach (var id in userIds)
        {
            int u = recommender.UserMap[id];
            var history = recommender.Context.Histories[u].Take(recommender.Model.Options.MaxHistory).ToArray();
            if (history.Length < minHistory) continue;
            var best = recommender.Recommend(id, 1);
            if (best.Count == 0) continue;
            int item = best[0].ItemIndex;
            var why = recommender.Explain(id, best[0].ItemId);
            if (why.HistoryAttributions.Count == 0) continue;
            float full = recommender.ScoreWithHistory(u, history, item);
            var byAttribution = why.HistoryAttributions.OrderByDescending(a => a.Value).Take(remove).Select(a => recommender.ItemMap[a.Id]).ToHashSet();
            var byAttention = why.HistoryAttention.Take(remove).Select(a => recommender.ItemMap[a.Id]).ToHashSet();
            var shuffled = history.ToArray();
            rng.Shuffle(shuffled.AsSpan());
            var byChance = shuffled.Take(remove).ToHashSet();
            double Drop(HashSet<int> gone) => full - recommender.ScoreWithHistory(u, history.Where(h => !gone.Contains(h)).ToArray(), item);
            double dTop = Drop(byAttribution), dRandom = Drop(byChance);
            top += dTop;
            attention += Drop(byAttention);
            random += dRandom;
            if (dTop > dRandom) wins++;
            users++;
        }
        return users == 0 ? new DeletionTestResult(0, remove, double.NaN, double.NaN, double.NaN, double.NaN)
            : new DeletionTestResult(users, remove, top / users, attention / users, random / users, wins / (double)users);
    }
}

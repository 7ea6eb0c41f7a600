using HierRec.Data;
using HierRec.Training;

namespace HierRec.Tests.Fusion;

/// <summary>Checks every fused recommender must pass, whichever dimensions it serves.</summary>
internal static class FusedServing
{
    /// <summary>
    /// Recommend's top 10 for <paramref name="user"/> is the brute-force ranking of the exported rows by the user's query
    /// plus the friends' items lifts when served (unseen items, ties to the lower index).
    /// </summary>
    public static IReadOnlyList<Recommendation> AssertRecommendIsBruteForce(HierarchicalRecommender r, string user)
    {
        var top = r.Recommend(user, 10);
        var x = r.UserVector(user);
        var rows = r.ExportItemVectors();
        var seen = r.History(user).ToHashSet();
        var score = Enumerable.Range(0, r.ItemIds.Count).Select(i => System.Numerics.Tensors.TensorPrimitives.Dot(x, rows.AsSpan(i * r.Dimension, r.Dimension))).ToArray();
        if (r.FriendItems is { } friends)
        {
            int u = r.UserIds.ToList().IndexOf(user);
            var (items, lifts) = friends.Lifts(u, r.HierarchicalUserVector(user));
            for (int k = 0; k < items.Length; k++) score[items[k]] += lifts[k];
        }
        var expected = Enumerable.Range(0, r.ItemIds.Count).Where(i => !seen.Contains(r.ItemIds[i]))
            .OrderByDescending(i => score[i]).ThenBy(i => i).Take(10).Select(i => r.ItemIds[i]);
        Assert.Equal(expected, top.Select(t => t.ItemId));
        return top;
    }

    /// <summary>The hierarchical model's own score ⟨x_u, E_i⟩ (without the fused dimensions) of known user <paramref name="user"/> for item <paramref name="itemId"/>.</summary>
    public static float OwnScore(HierarchicalRecommender r, Dataset train, int user, string itemId)
    {
        int item = train.Items.TryGetDense(itemId, out int dense) ? dense : -1;
        using var alone = new HierarchicalScoringModel(r.Model, r.Context);
        var own = new float[r.ItemIds.Count];
        alone.ScoreUsers([user], own);
        return own[item];
    }

    /// <summary>A loaded copy serves the first <paramref name="users"/> training users the same top 10 and (to 1e-4) the same queries.</summary>
    public static void AssertServesTheSame(HierarchicalRecommender r, HierarchicalRecommender loaded, Dataset train, int users = 5)
    {
        Assert.Equal(r.Dimension, loaded.Dimension);
        for (int u = 0; u < users; u++)
        {
            string user = train.Users.ToExternal(u);
            Assert.Equal(r.Recommend(user, 10).Select(t => t.ItemId), loaded.Recommend(user, 10).Select(t => t.ItemId));
            var (a, b) = (r.UserVector(user), loaded.UserVector(user));
            Assert.Equal(a.Length, b.Length);
            for (int j = 0; j < a.Length; j++) Assert.Equal(a[j], b[j], 1e-4f * (1 + Math.Abs(a[j]))); // libtorch recomputes x_u
        }
    }
}

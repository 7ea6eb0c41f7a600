using HierRec.Data;

namespace HierRec.Tests.Data;

public class SplitTests
{
    private static Dataset Random(int users, int items, int n, ulong seed)
    {
        var rng = new HierRec.Rng(seed);
        var um = new IdMap();
        var im = new IdMap();
        for (int u = 0; u < users; u++) um.GetOrAdd("u" + u);
        for (int i = 0; i < items; i++) im.GetOrAdd("i" + i);
        var xs = Enumerable.Range(0, n).Select(t => new Interaction(rng.NextInt(users), rng.NextInt(items), 1 + rng.NextInt(5), t)).ToList();
        return new Dataset("r", um, im, xs);
    }

    [Fact]
    public void RandomRatioPerUser_IsDeterministic_Disjoint_AndFollowsRecBoleCounts()
    {
        var d = Random(20, 40, 600, 1);
        var a = Splits.RandomRatioPerUser(d, 0.8, 0.1, 0.1, 42);
        var b = Splits.RandomRatioPerUser(d, 0.8, 0.1, 0.1, 42);
        Assert.Equal(a.Test.Interactions, b.Test.Interactions);
        Assert.Equal(d.Interactions.Count, a.Train.Interactions.Count + a.Validation.Interactions.Count + a.Test.Interactions.Count);
        foreach (var g in d.Interactions.GroupBy(x => x.User))
        {
            int n = g.Count();
            Assert.Equal((int)Math.Floor(0.8 * n), a.Train.Interactions.Count(x => x.User == g.Key));
            Assert.Equal((int)Math.Floor(0.9 * n) - (int)Math.Floor(0.8 * n), a.Validation.Interactions.Count(x => x.User == g.Key));
        }
        var c = Splits.RandomRatioPerUser(d, 0.8, 0.1, 0.1, 43);
        Assert.NotEqual(a.Test.Interactions, c.Test.Interactions);
    }

    [Fact]
    public void LeaveOneOut_TakesTheLastTwoByTime()
    {
        var d = Random(10, 30, 300, 2);
        var s = Splits.LeaveOneOut(d);
        foreach (var g in d.Interactions.GroupBy(x => x.User))
        {
            var ordered = g.OrderBy(x => x.Timestamp).ToArray();
            Assert.Equal(ordered[^1], s.Test.Interactions.Single(x => x.User == g.Key));
            Assert.Equal(ordered[^2], s.Validation.Interactions.Single(x => x.User == g.Key));
        }
    }

    [Fact]
    public void KCore_LeavesEveryUserAndItemWithEnoughInteractions()
    {
        var d = Splits.KCore(Random(60, 80, 700, 3), 5, 5);
        Assert.All(d.Interactions.GroupBy(x => x.User), g => Assert.True(g.Count() >= 5));
        Assert.All(d.Interactions.GroupBy(x => x.Item), g => Assert.True(g.Count() >= 5));
    }

    [Fact]
    public void ToImplicit_KeepsRatingsAtOrAboveTheThreshold()
    {
        var d = Random(10, 10, 100, 4);
        var imp = Splits.ToImplicit(d, 4);
        Assert.Equal(d.Interactions.Count(x => x.Value >= 4), imp.Interactions.Count);
        Assert.All(imp.Interactions, x => Assert.Equal(1f, x.Value));
    }
}

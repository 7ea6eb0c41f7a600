using HierRec.Data;

namespace HierRec.Tests;

/// <summary>Small datasets built in code, shared by several test classes.</summary>
internal static class TestData
{
    /// <summary>The synthetic generator's data at 200 users and 120 items (profiles, friends, item text), split at random 8:1:1 (seed 3).</summary>
    public static DataSplit SmallSynthetic()
    {
        var data = Splits.Deduplicate(Splits.ToImplicit(SyntheticDataset.Generate(new SyntheticOptions { Users = 200, Items = 120 })));
        return Splits.RandomRatioPerUser(data, 0.8, 0.1, 0.1, seed: 3);
    }

    /// <summary>
    /// 240 users walk a 60-item catalogue in steps of +1 from a random start (a skip of 2 one time in ten), 12 steps each,
    /// so what comes next follows from the last item while the set of a user's items tells little. Split chronologically
    /// leave-one-out; or, with <paramref name="timestamps"/> false (every timestamp 0: no order), random 8:1:1.
    /// <paramref name="titles"/>: items carry a "title" text column, so the hierarchical model has text.
    /// </summary>
    public static DataSplit Walks(ulong seed, bool timestamps = true, bool titles = false)
    {
        const int users = 240, items = 60;
        var rng = new HierRec.Rng(seed);
        var um = new IdMap();
        var im = new IdMap();
        for (int u = 0; u < users; u++) um.GetOrAdd("u" + u);
        for (int i = 0; i < items; i++) im.GetOrAdd("i" + i);
        var interactions = new List<Interaction>();
        for (int u = 0; u < users; u++)
        {
            int item = rng.NextInt(items);
            var seen = new HashSet<int>();
            for (int t = 0; t < 12; t++)
            {
                if (seen.Add(item)) interactions.Add(new Interaction(u, item, 1, timestamps ? 1000 + t : 0));
                item = (item + (rng.NextDouble() < 0.9 ? 1 : 2)) % items;
            }
        }
        var features = new FeatureTable(items);
        if (titles)
        {
            var column = features.AddText("title");
            for (int i = 0; i < items; i++) column[i] = $"stop number {i % 7} on line {i / 7}";
        }
        var data = new Dataset("walks", um, im, interactions, itemFeatures: features);
        return timestamps ? Splits.LeaveOneOut(data) : Splits.RandomRatioPerUser(data, 0.8, 0.1, 0.1, seed: 1);
    }
}


namespace HierRec.Data;

/// <summary>Filtering and splitting, each deterministic for a seed.</summary>
public static class Splits
{
    /// <summary>Keeps interactions with value ≥ <paramref name="threshold"/> as implicit feedback (value 1).</summary>
    public static Dataset ToImplicit(Dataset data, float threshold = float.NegativeInfinity)
    {
        ArgumentNullException.ThrowIfNull(data);
        return data.WithInteractions(data.Interactions.Where(x => x.Value >= threshold).Select(x => x with { Value = 1f }).ToList());
    }

    /// <summary>Removes duplicate (user, item) pairs, keeping the first occurrence.</summary>
    public static Dataset Deduplicate(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var seen = new HashSet<long>();
        return data.WithInteractions(data.Interactions.Where(x => seen.Add(((long)x.User << 32) | (uint)x.Item)).ToList());
    }

    /// <summary>
    /// Repeatedly drops users with fewer than <paramref name="minUser"/> and items with fewer than
    /// <paramref name="minItem"/> interactions until both hold (the k-core). Ids are kept; dropped entities simply have
    /// no interactions left.
    /// </summary>
    public static Dataset KCore(Dataset data, int minUser, int minItem)
    {
        ArgumentNullException.ThrowIfNull(data);
        var current = data.Interactions.ToList();
        while (true)
        {
            var uc = new int[data.UserCount];
            var ic = new int[data.ItemCount];
            foreach (var x in current) { uc[x.User]++; ic[x.Item]++; }
            var next = current.Where(x => uc[x.User] >= minUser && ic[x.Item] >= minItem).ToList();
            if (next.Count == current.Count) return data.WithInteractions(next);
            current = next;
        }
    }

    /// <summary>
    /// Per user, a random split of the user's interactions by ratio (RecBole's 'RS' with group_by user, e.g. 8:1:1).
    /// The counts per user are ⌊n·ratio⌋ for validation and test, rounded as RecBole does, and the rest train.
    /// </summary>
    public static DataSplit RandomRatioPerUser(Dataset data, double train, double validation, double test, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(data);
        double total = CheckRatios(train, validation, test);
        var rng = new Rng(seed);
        var tr = new List<Interaction>();
        var va = new List<Interaction>();
        var te = new List<Interaction>();
        foreach (var group in ByUser(data))
        {
            var items = group.ToArray();
            rng.Shuffle(items.AsSpan());
            SplitByRatio(items, train / total, (train + validation) / total, tr, va, te);
        }
        return new DataSplit(data.WithInteractions(tr, data.Name + "/train"), data.WithInteractions(va, data.Name + "/valid"), data.WithInteractions(te, data.Name + "/test"));
    }

    /// <summary>Per user, by time: the last interaction is test, the second-last validation, the rest train.</summary>
    public static DataSplit LeaveOneOut(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var tr = new List<Interaction>();
        var va = new List<Interaction>();
        var te = new List<Interaction>();
        foreach (var group in ByUser(data))
        {
            var items = group.OrderBy(x => x.Timestamp).ToArray(); // stable: ties keep source order
            if (items.Length >= 3)
            {
                tr.AddRange(items[..^2]);
                va.Add(items[^2]);
                te.Add(items[^1]);
            }
            else tr.AddRange(items);
        }
        return new DataSplit(data.WithInteractions(tr, data.Name + "/train"), data.WithInteractions(va, data.Name + "/valid"), data.WithInteractions(te, data.Name + "/test"));
    }

    /// <summary>Per user, by time: the earliest share is train, then validation, then test (RecBole's 'TO' by user).</summary>
    public static DataSplit ChronologicalRatioPerUser(Dataset data, double train, double validation, double test)
    {
        ArgumentNullException.ThrowIfNull(data);
        double total = CheckRatios(train, validation, test);
        var tr = new List<Interaction>();
        var va = new List<Interaction>();
        var te = new List<Interaction>();
        foreach (var group in ByUser(data))
        {
            var items = group.OrderBy(x => x.Timestamp).ToArray();
            SplitByRatio(items, train / total, (train + validation) / total, tr, va, te);
        }
        return new DataSplit(data.WithInteractions(tr, data.Name + "/train"), data.WithInteractions(va, data.Name + "/valid"), data.WithInteractions(te, data.Name + "/test"));
    }

    /// <summary>Ratios: finite, train positive, the others non-negative, summing to 1 (within 10⁻⁶). A sum of 1.1 is a typo, not a request.</summary>
    private static double CheckRatios(double train, double validation, double test)
    {
        if (!double.IsFinite(train) || !(train > 0)) throw new ArgumentOutOfRangeException(nameof(train), train, "The train ratio must be a finite number above 0.");
        if (!double.IsFinite(validation) || validation < 0) throw new ArgumentOutOfRangeException(nameof(validation), validation, "The validation ratio must be a finite number ≥ 0.");
        if (!double.IsFinite(test) || test < 0) throw new ArgumentOutOfRangeException(nameof(test), test, "The test ratio must be a finite number ≥ 0.");
        double total = train + validation + test;
        if (Math.Abs(total - 1) > 1e-6)
            throw new ArgumentException(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"The ratios {train} + {validation} + {test} sum to {total}; they must sum to 1."), nameof(test));
        return total;
    }

    /// <summary>
    /// RecBole's split points: at ⌊cumulative ratio · n⌋, so with 8:1:1 train = ⌊0.8n⌋, validation = ⌊0.9n⌋ − ⌊0.8n⌋,
    /// test = the rest.
    /// </summary>
    private static void SplitByRatio(Interaction[] items, double trainEnd, double validationEnd, List<Interaction> tr, List<Interaction> va, List<Interaction> te)
    {
        int n = items.Length;
        int a = (int)Math.Floor(trainEnd * n), b = (int)Math.Floor(validationEnd * n);
        tr.AddRange(items[..a]);
        va.AddRange(items[a..b]);
        te.AddRange(items[b..]);
    }

    private static IEnumerable<IGrouping<int, Interaction>> ByUser(Dataset data) => data.Interactions.GroupBy(x => x.User).OrderBy(g => g.Key);
}

namespace HierRec.Data;

/// <summary>Descriptive statistics of a dataset's interactions.</summary>
/// <param name="Users">Users with at least one interaction.</param>
/// <param name="Items">Items with at least one interaction.</param>
/// <param name="Interactions">Number of interactions.</param>
/// <param name="Density">Interactions / (users × items).</param>
/// <param name="UserLengthP50">Median interactions per user.</param>
/// <param name="UserLengthP90">90th percentile of interactions per user.</param>
/// <param name="UserLengthMin">Fewest interactions of a user.</param>
/// <param name="UserLengthMax">Most interactions of a user.</param>
public sealed record DatasetStatistics(int Users, int Items, int Interactions, double Density, double UserLengthP50, double UserLengthP90, int UserLengthMin, int UserLengthMax)
{
    /// <summary>Computes the statistics.</summary>
    public static DatasetStatistics Of(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var perUser = data.Interactions.GroupBy(x => x.User).Select(g => g.Count()).Order().ToArray();
        int items = data.Interactions.Select(x => x.Item).Distinct().Count();
        int users = perUser.Length;
        return new DatasetStatistics(users, items, data.Interactions.Count,
            users == 0 || items == 0 ? 0 : data.Interactions.Count / ((double)users * items),
            Percentile(perUser, 0.5), Percentile(perUser, 0.9), users == 0 ? 0 : perUser[0], users == 0 ? 0 : perUser[^1]);
    }

    private static double Percentile(int[] sorted, double p)
    {
        if (sorted.Length == 0) return 0;
        double pos = p * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos), hi = (int)Math.Ceiling(pos);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }
}

using HierRec.Data;

namespace HierRec.Users;

/// <summary>
/// Everything the model reads about known users: profiles, histories (most recent first) and social neighbourhoods,
/// built from a dataset's training interactions.
/// </summary>
public sealed class UserContext
{
    private UserContext(UserProfile[] profiles, int[][] histories, int[][] neighbours, int[][]? hops)
    {
        Profiles = profiles;
        Histories = histories;
        Neighbours = neighbours;
        Hops = hops;
    }

    /// <summary>A context from its parts (as saved with a model); every list has one entry per user.</summary>
    public static UserContext Create(UserProfile[] profiles, int[][] histories, int[][] neighbours, int[][]? hops)
    {
        ArgumentNullException.ThrowIfNull(profiles);
        ArgumentNullException.ThrowIfNull(histories);
        ArgumentNullException.ThrowIfNull(neighbours);
        if (histories.Length != profiles.Length || neighbours.Length != profiles.Length || (hops is not null && hops.Length != profiles.Length))
            throw new ArgumentException($"A user context needs one profile, history and neighbour list per user; got {profiles.Length}, {histories.Length}, {neighbours.Length}.");
        return new UserContext(profiles, histories, neighbours, hops);
    }

    /// <summary>Profile per user.</summary>
    public IReadOnlyList<UserProfile> Profiles { get; }

    /// <summary>Items per user, most recent first (source order breaks ties).</summary>
    public IReadOnlyList<int[]> Histories { get; }

    /// <summary>Neighbours per user, hop 1 first, at most the configured count.</summary>
    public IReadOnlyList<int[]> Neighbours { get; }

    /// <summary>Hop of each neighbour (1 or 2), or null when only first-hop neighbours are used.</summary>
    public IReadOnlyList<int[]>? Hops { get; }

    /// <summary>Builds the context of every user of <paramref name="interactions"/>' dataset.</summary>
    /// <param name="interactions">The interactions the model may read (the training split).</param>
    /// <param name="maxFriends">Neighbours kept per user (a fixed random sample beyond that).</param>
    /// <param name="twoHop">Fill up to <paramref name="maxFriends"/> with friends of friends.</param>
    /// <param name="seed">Seed of the neighbour sampling.</param>
    public static UserContext FromDataset(Dataset interactions, int maxFriends = 30, bool twoHop = false, ulong seed = 1)
    {
        ArgumentNullException.ThrowIfNull(interactions);
        int users = interactions.UserCount;
        var profiles = Enumerable.Range(0, users).Select(u => UserProfile.From(interactions.UserFeatures, u)).ToArray();
        var lists = new List<(long Time, int Order, int Item)>[users];
        for (int u = 0; u < users; u++) lists[u] = [];
        int order = 0;
        foreach (var x in interactions.Interactions) lists[x.User].Add((x.Timestamp, order++, x.Item));
        var histories = lists.Select(l => l.OrderByDescending(e => e.Time).ThenByDescending(e => e.Order).Select(e => e.Item).ToArray()).ToArray();
        var friends = interactions.FriendLists();
        var rng = new Rng(seed);
        var neighbours = new int[users][];
        int[][]? hops = twoHop ? new int[users][] : null;
        for (int u = 0; u < users; u++)
        {
            var first = Sample(friends[u], maxFriends, rng);
            if (!twoHop)
            {
                neighbours[u] = first;
                continue;
            }
            var seen = new HashSet<int>(first) { u };
            var second = first.SelectMany(f => friends[f]).Where(v => seen.Add(v)).ToArray();
            var extra = Sample(second, Math.Max(0, maxFriends - first.Length), rng);
            neighbours[u] = [.. first, .. extra];
            hops![u] = [.. first.Select(_ => 1), .. extra.Select(_ => 2)];
        }
        return new UserContext(profiles, histories, neighbours, hops);
    }

    private static int[] Sample(int[] values, int count, Rng rng)
    {
        if (values.Length <= count) return values;
        var copy = (int[])values.Clone();
        rng.Shuffle(copy.AsSpan());
        return copy[..count];
    }

    /// <summary>The batch of <paramref name="users"/>, with their full histories.</summary>
    public UserBatch Batch(IReadOnlyList<int> users)
    {
        ArgumentNullException.ThrowIfNull(users);
        return new UserBatch(users.Select(u => Profiles[u]).ToArray(), users.Select(u => Histories[u]).ToArray(),
            users.Select(u => Neighbours[u]).ToArray(), Hops is null ? null : users.Select(u => Hops[u]).ToArray(), users.ToArray());
    }
}

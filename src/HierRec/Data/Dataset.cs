namespace HierRec.Data;

/// <summary>
/// An in-memory recommendation dataset: interactions over dense user and item ids, user and item side information,
/// and a social graph between users.
/// </summary>
public sealed class Dataset
{
    /// <summary>Creates a dataset; the feature tables are resized to the id maps.</summary>
    public Dataset(string name, IdMap users, IdMap items, IReadOnlyList<Interaction> interactions,
        FeatureTable? userFeatures = null, FeatureTable? itemFeatures = null, IReadOnlyList<(int A, int B)>? socialEdges = null)
    {
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(interactions);
        Name = name;
        Users = users;
        Items = items;
        Interactions = interactions;
        UserFeatures = userFeatures ?? new FeatureTable(users.Count);
        ItemFeatures = itemFeatures ?? new FeatureTable(items.Count);
        if (UserFeatures.Count < users.Count) UserFeatures.Resize(users.Count);
        if (ItemFeatures.Count < items.Count) ItemFeatures.Resize(items.Count);
        SocialEdges = socialEdges ?? [];
        foreach (var x in interactions)
        {
            if ((uint)x.User >= (uint)users.Count || (uint)x.Item >= (uint)items.Count)
                throw new ArgumentException($"Interaction ({x.User}, {x.Item}) is outside {users.Count} users × {items.Count} items.", nameof(interactions));
        }
        foreach (var (a, b) in SocialEdges)
        {
            if ((uint)a >= (uint)users.Count || (uint)b >= (uint)users.Count)
                throw new ArgumentException($"Social edge ({a}, {b}) is outside the {users.Count} users.", nameof(socialEdges));
        }
    }

    /// <summary>A short name ("ml-100k").</summary>
    public string Name { get; }

    /// <summary>User ids.</summary>
    public IdMap Users { get; }

    /// <summary>Item ids.</summary>
    public IdMap Items { get; }

    /// <summary>All interactions, in source order.</summary>
    public IReadOnlyList<Interaction> Interactions { get; }

    /// <summary>User side information (age, gender, occupation, zip, …).</summary>
    public FeatureTable UserFeatures { get; }

    /// <summary>Item side information (title, genres, tags, …).</summary>
    public FeatureTable ItemFeatures { get; }

    /// <summary>Directed user-user edges (symmetric sources list both directions).</summary>
    public IReadOnlyList<(int A, int B)> SocialEdges { get; }

    /// <summary>Number of users.</summary>
    public int UserCount => Users.Count;

    /// <summary>Number of items.</summary>
    public int ItemCount => Items.Count;

    /// <summary>A copy with other interactions (same ids, features and graph): filtering and splitting produce these.</summary>
    public Dataset WithInteractions(IReadOnlyList<Interaction> interactions, string? name = null) =>
        new(name ?? Name, Users, Items, interactions, UserFeatures, ItemFeatures, SocialEdges);

    /// <summary>Friends of every user, from <see cref="SocialEdges"/> (sorted, without duplicates).</summary>
    public int[][] FriendLists()
    {
        var lists = Enumerable.Range(0, UserCount).Select(_ => new SortedSet<int>()).ToArray();
        foreach (var (a, b) in SocialEdges)
        {
            if (a == b) continue;
            lists[a].Add(b);
        }
        return lists.Select(s => s.ToArray()).ToArray();
    }
}

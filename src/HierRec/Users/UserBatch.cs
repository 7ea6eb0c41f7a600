namespace HierRec.Users;

/// <summary>What the model knows of a batch of users.</summary>
/// <param name="Profiles">Basic information per user.</param>
/// <param name="Histories">Per user, item indices most recent first.</param>
/// <param name="Neighbours">Per user, neighbour user indices (hop 1 first); empty arrays without a graph.</param>
/// <param name="Hops">Per user, the hop of each neighbour (1 or 2), or null when all are first-hop.</param>
/// <param name="UserIndices">Per user, the known user's index (for the learnt user embedding), or −1 for a new user; null: all new.</param>
public sealed record UserBatch(IReadOnlyList<UserProfile> Profiles, IReadOnlyList<int[]> Histories, IReadOnlyList<int[]> Neighbours, IReadOnlyList<int[]>? Hops = null, IReadOnlyList<int>? UserIndices = null)
{
    /// <summary>Number of users.</summary>
    public int Count => Histories.Count;
}

using static TorchSharp.torch;

namespace HierRec.Users;

/// <summary>What the social layer reads.</summary>
/// <param name="Own">(B, D) the users' behaviour vectors (the query is conditioned on them).</param>
/// <param name="Table">(users, D) behaviour vectors of every user; read as constants.</param>
/// <param name="Neighbours">Per user, neighbour user indices, hop 1 first.</param>
/// <param name="Hops">Per user, the hop (1 or 2) of each neighbour, or null for all first-hop.</param>
public sealed record SocialInput(Tensor Own, Tensor Table, IReadOnlyList<int[]> Neighbours, IReadOnlyList<int[]>? Hops);

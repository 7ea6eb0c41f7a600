using static TorchSharp.torch;

namespace HierRec.Users;

/// <summary>What the behaviour layer reads.</summary>
/// <param name="Items">(items, D) vectors of every item, as the behaviour layer sees them.</param>
/// <param name="Histories">Per user, item indices most recent first.</param>
/// <param name="Profile">(B, D) profile vectors the query is conditioned on, or null.</param>
public sealed record BehaviourInput(Tensor Items, IReadOnlyList<int[]> Histories, Tensor? Profile);

using static TorchSharp.torch;

namespace HierRec.Users;

/// <summary>A batch of encoded users (the caller disposes it, or a dispose scope does).</summary>
/// <param name="Users">(B, D) fused user vectors.</param>
/// <param name="Layers">The layer vectors, in <see cref="HierarchicalOptions.LayerNames"/> order, each (B, D).</param>
/// <param name="Contributions">(B, L) each layer's share of the fused vector.</param>
/// <param name="HistoryWeights">(B, T) behaviour attention over the history, or null.</param>
/// <param name="FriendWeights">(B, F) social attention over the neighbours, or null.</param>
public sealed record EncodedUsers(Tensor Users, IReadOnlyList<Tensor> Layers, Tensor Contributions, Tensor? HistoryWeights, Tensor? FriendWeights) : IDisposable
{
    /// <summary>Disposes every tensor.</summary>
    public void Dispose()
    {
        Users.Dispose();
        foreach (var l in Layers) l.Dispose();
        Contributions.Dispose();
        HistoryWeights?.Dispose();
        FriendWeights?.Dispose();
    }
}

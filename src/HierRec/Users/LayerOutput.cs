using static TorchSharp.torch;

namespace HierRec.Users;

/// <summary>A user layer's vectors and the attention weights behind them.</summary>
/// <param name="Vectors">(B, D) layer vectors, differentiable while gradients are recorded.</param>
/// <param name="Weights">(B, T) attention over the layer's inputs (history items, friends), averaged over heads; padding 0; detached.</param>
public readonly record struct LayerOutput(Tensor Vectors, Tensor Weights) : IDisposable
{
    /// <summary>Disposes both tensors.</summary>
    public void Dispose()
    {
        Vectors?.Dispose();
        Weights?.Dispose();
    }
}

/// <summary>What the behaviour layer reads.</summary>
/// <param name="Items">(items, D) vectors of every item, as the behaviour layer sees them.</param>
/// <param name="Histories">Per user, item indices most recent first.</param>
/// <param name="Profile">(B, D) profile vectors the query is conditioned on, or null.</param>
public sealed record BehaviourInput(Tensor Items, IReadOnlyList<int[]> Histories, Tensor? Profile);

/// <summary>What the social layer reads.</summary>
/// <param name="Own">(B, D) the users' behaviour vectors (the query is conditioned on them).</param>
/// <param name="Table">(users, D) behaviour vectors of every user; read as constants.</param>
/// <param name="Neighbours">Per user, neighbour user indices, hop 1 first.</param>
/// <param name="Hops">Per user, the hop (1 or 2) of each neighbour, or null for all first-hop.</param>
public sealed record SocialInput(Tensor Own, Tensor Table, IReadOnlyList<int[]> Neighbours, IReadOnlyList<int[]>? Hops);

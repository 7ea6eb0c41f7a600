using HierRec.Modules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HierRec.Fusion;

/// <summary>
/// Gated fusion: each layer gets a vector gate from all layers together, g_l = σ(W_l [v_1; …; v_L] + c_l), and the fused
/// vector is Σ_l g_l ⊙ v_l. Contribution of layer l: ‖g_l ⊙ v_l‖ as a share of the sum over layers.
/// </summary>
public sealed class GatedFusion : nn.Module<IReadOnlyList<Tensor>, FusionResult>, IFusion
{
    /// <summary>Registers nothing by reflection: the constructor registers every component by name (<see cref="Training.TorchCheckpoint.State"/> says why).</summary>
    protected override void RegisterComponents() { }

    /// <summary>Creates the fusion.</summary>
    public GatedFusion(int layerCount, int dim, Generator generator) : base(nameof(GatedFusion))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(layerCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dim);
        ArgumentNullException.ThrowIfNull(generator);
        LayerCount = layerCount;
        OutputDimension = dim;
        Gate = Layers.Linear(layerCount * dim, layerCount * dim, generator);
        register_module("gate", Gate);
    }

    /// <inheritdoc/>
    public int LayerCount { get; }

    /// <inheritdoc/>
    public int OutputDimension { get; }

    /// <summary>The gate projection ([v_1; …; v_L] → L gates of width D).</summary>
    public Linear Gate { get; }

    /// <inheritdoc/>
    public FusionResult Fuse(IReadOnlyList<Tensor> layers) => forward(layers);

    /// <inheritdoc/>
    public override FusionResult forward(IReadOnlyList<Tensor> layers)
    {
        long b = FusionHelpers.Check(layers, LayerCount, OutputDimension, nameof(GatedFusion));
        using var scope = torch.NewDisposeScope();
        var concat = torch.cat(layers.ToArray(), 1);                                                    // (B, L·D)
        var gates = Gate.forward(concat).sigmoid().reshape(b, LayerCount, OutputDimension);  // (B, L, D)
        var gated = gates * torch.stack(layers.ToArray(), 1);                                           // (B, L, D)
        var shares = FusionHelpers.NormalizeRows(gated.detach().norm(2, false));              // (B, L)
        return new FusionResult(gated.sum(1).MoveToOuterDisposeScope(), shares.MoveToOuterDisposeScope());
    }
}

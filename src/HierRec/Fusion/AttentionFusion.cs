using HierRec.Modules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HierRec.Fusion;

/// <summary>
/// Attention fusion: a learned query scores each layer vector, α_l = softmax_l(qᵀ tanh(W v_l + c) + β_l), and the fused
/// vector is Σ_l α_l v_l. β is a learned prior per layer (zero at start), so the fusion can prefer a layer for what it is
/// as well as for what it says. The weights α are the per-layer contributions.
/// </summary>
public sealed class AttentionFusion : nn.Module<IReadOnlyList<Tensor>, FusionResult>, IFusion
{
    /// <summary>Registers nothing by reflection: the constructor registers every component by name (<see cref="Training.TorchCheckpoint.State"/> says why).</summary>
    protected override void RegisterComponents() { }

    /// <summary>Creates the fusion of <paramref name="layerCount"/> layers of width <paramref name="dim"/>.</summary>
    public AttentionFusion(int layerCount, int dim, Generator generator, int attentionDim = 0) : base(nameof(AttentionFusion))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(layerCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dim);
        ArgumentNullException.ThrowIfNull(generator);
        LayerCount = layerCount;
        OutputDimension = dim;
        int a = attentionDim > 0 ? attentionDim : dim;
        Projection = Layers.Linear(dim, a, generator);
        register_module("projection", Projection);
        register_parameter("query", Layers.Normal(1 / Math.Sqrt(a), generator, a)); // (A)
        register_parameter("layer_bias", new Parameter(torch.zeros(layerCount)));    // (L)
    }

    /// <summary>The per-layer prior β (L).</summary>
    public Parameter LayerBias => get_parameter("layer_bias")!;

    /// <inheritdoc/>
    public int LayerCount { get; }

    /// <inheritdoc/>
    public int OutputDimension { get; }

    /// <summary>W and c of the scoring MLP.</summary>
    public Linear Projection { get; }

    /// <summary>The learned query q (A).</summary>
    public Parameter Query => get_parameter("query")!;

    /// <inheritdoc/>
    public FusionResult Fuse(IReadOnlyList<Tensor> layers) => forward(layers);

    /// <inheritdoc/>
    public override FusionResult forward(IReadOnlyList<Tensor> layers)
    {
        FusionHelpers.Check(layers, LayerCount, OutputDimension, nameof(AttentionFusion));
        using var scope = torch.NewDisposeScope();
        var stacked = torch.stack(layers.ToArray(), 1);                                   // (B, L, D)
        var keys = Projection.forward(stacked).tanh();                          // (B, L, A)
        var scores = keys.matmul(Query).Plus(LayerBias);                            // (B, L)
        var alpha = scores.softmax(1);                                          // (B, L)
        var fused = alpha.unsqueeze(1).bmm(stacked).squeeze(1);                 // (B, D)
        return new FusionResult(fused.MoveToOuterDisposeScope(), alpha.detach().clone().MoveToOuterDisposeScope());
    }
}

using HierRec.Modules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HierRec.Fusion;

/// <summary>
/// Concatenation followed by a two-layer MLP: GELU(W₁ [v_1; …; v_L] + c₁) W₂ + c₂. Contribution of layer l by ablation:
/// ‖f(v) − f(v with layer l zeroed)‖, as a share of the sum over layers (L + 1 passes of the small MLP).
/// </summary>
public sealed class ConcatMlpFusion : nn.Module<IReadOnlyList<Tensor>, FusionResult>, IFusion
{
    /// <summary>Registers nothing by reflection: the constructor registers every component by name (<see cref="Training.TorchCheckpoint.State"/> says why).</summary>
    protected override void RegisterComponents() { }

    /// <summary>Creates the fusion with a hidden width of <paramref name="hidden"/> (default 2·D).</summary>
    public ConcatMlpFusion(int layerCount, int dim, Generator generator, int outputDim = 0, int hidden = 0) : base(nameof(ConcatMlpFusion))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(layerCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dim);
        ArgumentNullException.ThrowIfNull(generator);
        LayerCount = layerCount;
        InputDimension = dim;
        OutputDimension = outputDim > 0 ? outputDim : dim;
        int h = hidden > 0 ? hidden : 2 * dim;
        Hidden = Layers.Linear(layerCount * dim, h, generator);
        Output = Layers.Linear(h, OutputDimension, generator);
        register_module("hidden", Hidden);
        register_module("output", Output);
    }

    /// <inheritdoc/>
    public int LayerCount { get; }

    /// <summary>Width D of each layer vector.</summary>
    public int InputDimension { get; }

    /// <inheritdoc/>
    public int OutputDimension { get; }

    /// <summary>First MLP layer.</summary>
    public Linear Hidden { get; }

    /// <summary>Second MLP layer.</summary>
    public Linear Output { get; }

    private Tensor Mlp(IReadOnlyList<Tensor> layers) => Output.forward(nn.functional.gelu(Hidden.forward(torch.cat(layers.ToArray(), 1))));

    /// <inheritdoc/>
    public FusionResult Fuse(IReadOnlyList<Tensor> layers) => forward(layers);

    /// <inheritdoc/>
    public override FusionResult forward(IReadOnlyList<Tensor> layers)
    {
        long b = FusionHelpers.Check(layers, LayerCount, InputDimension, nameof(ConcatMlpFusion));
        using var scope = torch.NewDisposeScope();
        var fused = Mlp(layers);
        var drops = new Tensor[LayerCount];
        using (torch.no_grad())
        {
            var detached = layers.Select(t => t.detach()).ToArray();
            var plain = fused.detach();
            for (int l = 0; l < LayerCount; l++)
            {
                var ablated = detached.Select((t, j) => j == l ? torch.zeros_like(t) : t).ToList();
                drops[l] = (plain - Mlp(ablated)).norm(1, false);                              // (B)
            }
        }
        var shares = FusionHelpers.NormalizeRows(torch.stack(drops, 1));
        return new FusionResult(fused.MoveToOuterDisposeScope(), shares.MoveToOuterDisposeScope());
    }
}

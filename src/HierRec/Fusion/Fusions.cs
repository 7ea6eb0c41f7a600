using HierRec.Modules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HierRec.Fusion;

/// <summary>Shared checks and helpers of the fusions.</summary>
internal static class FusionHelpers
{
    public static long Check(IReadOnlyList<Tensor> layers, int expected, int dim, string fusion)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Count != expected) throw new ArgumentException($"{fusion} was built for {expected} layers; got {layers.Count}.", nameof(layers));
        long b = -1;
        for (int l = 0; l < layers.Count; l++)
        {
            var t = layers[l] ?? throw new ArgumentException($"Layer {l} is null.", nameof(layers));
            if (t.dim() != 2 || t.shape[1] != dim) throw new ArgumentException($"{fusion}: layer {l} must be (batch, {dim}); got {TorchInterop.ShapeString(t.shape)}.", nameof(layers));
            if (b >= 0 && t.shape[0] != b) throw new ArgumentException($"{fusion}: layer {l} has {t.shape[0]} rows, layer 0 has {b}.", nameof(layers));
            b = t.shape[0];
        }
        return b;
    }

    /// <summary>Shares: each row's values divided by the row sum (uniform where the sum is 0); detached.</summary>
    public static Tensor NormalizeRows(Tensor values)
    {
        using var scope = torch.NewDisposeScope();
        var v = values.detach();
        var sum = v.sum(1, keepdim: true);
        var uniform = torch.full_like(v, 1.0 / v.shape[1]);
        return torch.where(sum > 0, v / sum.clamp_min(1e-30), uniform).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Attention fusion: a learned query scores each layer vector, α_l = softmax_l(qᵀ tanh(W v_l + c) + β_l), and the fused
/// vector is Σ_l α_l v_l. β is a learned prior per layer (zero at start), so the fusion can prefer a layer for what it is
/// as well as for what it says. The weights α are the per-layer contributions.
/// </summary>
public sealed class AttentionFusion : nn.Module<IReadOnlyList<Tensor>, FusionResult>, IFusion
{
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
        var scores = keys.matmul(Query) + LayerBias;                            // (B, L)
        var alpha = scores.softmax(1);                                          // (B, L)
        var fused = alpha.unsqueeze(1).bmm(stacked).squeeze(1);                 // (B, D)
        return new FusionResult(fused.MoveToOuterDisposeScope(), alpha.detach().clone().MoveToOuterDisposeScope());
    }
}

/// <summary>
/// Gated fusion: each layer gets a vector gate from all layers together, g_l = σ(W_l [v_1; …; v_L] + c_l), and the fused
/// vector is Σ_l g_l ⊙ v_l. Contribution of layer l: ‖g_l ⊙ v_l‖ as a share of the sum over layers.
/// </summary>
public sealed class GatedFusion : nn.Module<IReadOnlyList<Tensor>, FusionResult>, IFusion
{
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

/// <summary>
/// Concatenation followed by a two-layer MLP: GELU(W₁ [v_1; …; v_L] + c₁) W₂ + c₂. Contribution of layer l by ablation:
/// ‖f(v) − f(v with layer l zeroed)‖, as a share of the sum over layers (L + 1 passes of the small MLP).
/// </summary>
public sealed class ConcatMlpFusion : nn.Module<IReadOnlyList<Tensor>, FusionResult>, IFusion
{
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

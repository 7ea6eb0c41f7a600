using HierRec.Tensors;
using HierRec.Tensors.Autograd;
using HierRec.Tensors.Layers;

namespace HierRec.Fusion;

/// <summary>Shared checks and helpers of the fusions.</summary>
internal static class FusionHelpers
{
    public static (int Batch, int Dim) Check(IReadOnlyList<Tensor> layers, int expected, int dim, string fusion)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Count != expected) throw new ArgumentException($"{fusion} was built for {expected} layers; got {layers.Count}.", nameof(layers));
        int b = -1;
        for (int l = 0; l < layers.Count; l++)
        {
            var t = layers[l] ?? throw new ArgumentException($"Layer {l} is null.", nameof(layers));
            if (t.Rank != 2 || t.Dim(1) != dim) throw new ArgumentException($"{fusion}: layer {l} must be (batch, {dim}); got {Tensor.ShapeString(t.Shape)}.", nameof(layers));
            if (b >= 0 && t.Dim(0) != b) throw new ArgumentException($"{fusion}: layer {l} has {t.Dim(0)} rows, layer 0 has {b}.", nameof(layers));
            b = t.Dim(0);
        }
        return (b, dim);
    }

    /// <summary>L tensors (B, D) → (B, L, D).</summary>
    public static Tensor Stack(IReadOnlyList<Tensor> layers, int b, int d) =>
        Ops.Concat(layers.Select(t => Ops.Reshape(t, b, 1, d)).ToList(), 1);

    /// <summary>Shares: each row's values divided by the row sum (uniform where the sum is 0).</summary>
    public static Tensor NormalizeRows(float[] values, int b, int l)
    {
        var t = new Tensor(b, l);
        for (int r = 0; r < b; r++)
        {
            float sum = 0;
            for (int j = 0; j < l; j++) sum += values[r * l + j];
            for (int j = 0; j < l; j++) t.Data[r * l + j] = sum > 0 ? values[r * l + j] / sum : 1f / l;
        }
        return t;
    }
}

/// <summary>
/// Attention fusion: a learned query scores each layer vector, α_l = softmax_l(qᵀ tanh(W v_l + c) + β_l), and the fused
/// vector is Σ_l α_l v_l. β is a learned prior per layer (zero at start), so the fusion can prefer a layer for what it is
/// as well as for what it says. The weights α are the per-layer contributions.
/// </summary>
public sealed class AttentionFusion : Module, IFusion
{
    /// <summary>Creates the fusion of <paramref name="layerCount"/> layers of width <paramref name="dim"/>.</summary>
    public AttentionFusion(int layerCount, int dim, Rng rng, int attentionDim = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(layerCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dim);
        ArgumentNullException.ThrowIfNull(rng);
        LayerCount = layerCount;
        OutputDimension = dim;
        int a = attentionDim > 0 ? attentionDim : dim;
        Projection = RegisterModule("projection", new Linear(dim, a, rng));
        Query = RegisterParameter("query", Tensor.RandomNormal(rng, 1f / MathF.Sqrt(a), a)); // (A)
        LayerBias = RegisterParameter("layer_bias", Tensor.Zeros(layerCount));                // (L)
    }

    /// <summary>The per-layer prior β (L).</summary>
    public Tensor LayerBias { get; }

    /// <inheritdoc/>
    public int LayerCount { get; }

    /// <inheritdoc/>
    public int OutputDimension { get; }

    /// <summary>W and c of the scoring MLP.</summary>
    public Linear Projection { get; }

    /// <summary>The learned query q (A).</summary>
    public Tensor Query { get; }

    /// <inheritdoc/>
    public Tensor Fuse(IReadOnlyList<Tensor> layers, out Tensor contributions)
    {
        var (b, d) = FusionHelpers.Check(layers, LayerCount, OutputDimension, nameof(AttentionFusion));
        var stacked = FusionHelpers.Stack(layers, b, d);                                        // (B, L, D)
        var keys = Ops.Tanh(Projection.Forward(stacked));                                       // (B, L, A)
        var scores = Ops.Reshape(Ops.MatMul(keys, Ops.Reshape(Query, Query.Length, 1)), b, 1, LayerCount) + LayerBias; // (B, 1, L)
        var alpha = Ops.Softmax(scores);                                                        // (B, 1, L)
        contributions = Ops.Reshape(alpha.Detach(), b, LayerCount).Clone();
        return Ops.Reshape(Ops.MatMul(alpha, stacked), b, d);                                   // (B, D)
    }
}

/// <summary>
/// Gated fusion: each layer gets a vector gate from all layers together, g_l = σ(W_l [v_1; …; v_L] + c_l), and the fused
/// vector is Σ_l g_l ⊙ v_l. Contribution of layer l: ‖g_l ⊙ v_l‖ as a share of the sum over layers.
/// </summary>
public sealed class GatedFusion : Module, IFusion
{
    /// <summary>Creates the fusion.</summary>
    public GatedFusion(int layerCount, int dim, Rng rng)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(layerCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dim);
        ArgumentNullException.ThrowIfNull(rng);
        LayerCount = layerCount;
        OutputDimension = dim;
        Gate = RegisterModule("gate", new Linear(layerCount * dim, layerCount * dim, rng));
    }

    /// <inheritdoc/>
    public int LayerCount { get; }

    /// <inheritdoc/>
    public int OutputDimension { get; }

    /// <summary>The gate projection ([v_1; …; v_L] → L gates of width D).</summary>
    public Linear Gate { get; }

    /// <inheritdoc/>
    public Tensor Fuse(IReadOnlyList<Tensor> layers, out Tensor contributions)
    {
        var (b, d) = FusionHelpers.Check(layers, LayerCount, OutputDimension, nameof(GatedFusion));
        var concat = Ops.Concat(layers.ToList(), 1);                                    // (B, L·D)
        var gates = Ops.Reshape(Ops.Sigmoid(Gate.Forward(concat)), b, LayerCount, d);   // (B, L, D)
        var gated = gates * FusionHelpers.Stack(layers, b, d);                         // (B, L, D)
        var norms = new float[b * LayerCount];
        var gd = gated.Data;
        for (int i = 0; i < norms.Length; i++) norms[i] = System.Numerics.Tensors.TensorPrimitives.Norm(gd.Slice(i * d, d));
        contributions = FusionHelpers.NormalizeRows(norms, b, LayerCount);
        return Ops.Sum(gated, 1);                                                       // (B, D)
    }
}

/// <summary>
/// Concatenation followed by a two-layer MLP: GELU(W₁ [v_1; …; v_L] + c₁) W₂ + c₂. Contribution of layer l by ablation:
/// ‖f(v) − f(v with layer l zeroed)‖, as a share of the sum over layers (L + 1 forward passes of the small MLP).
/// </summary>
public sealed class ConcatMlpFusion : Module, IFusion
{
    /// <summary>Creates the fusion with a hidden width of <paramref name="hidden"/> (default 2·D).</summary>
    public ConcatMlpFusion(int layerCount, int dim, Rng rng, int outputDim = 0, int hidden = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(layerCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dim);
        ArgumentNullException.ThrowIfNull(rng);
        LayerCount = layerCount;
        InputDimension = dim;
        OutputDimension = outputDim > 0 ? outputDim : dim;
        int h = hidden > 0 ? hidden : 2 * dim;
        Hidden = RegisterModule("hidden", new Linear(layerCount * dim, h, rng));
        Output = RegisterModule("output", new Linear(h, OutputDimension, rng));
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

    private Tensor Mlp(IReadOnlyList<Tensor> layers) => Output.Forward(Ops.Gelu(Hidden.Forward(Ops.Concat(layers.ToList(), 1))));

    /// <inheritdoc/>
    public Tensor Fuse(IReadOnlyList<Tensor> layers, out Tensor contributions)
    {
        var (b, d) = FusionHelpers.Check(layers, LayerCount, InputDimension, nameof(ConcatMlpFusion));
        var fused = Mlp(layers);
        var drops = new float[b * LayerCount];
        using (GradMode.NoGrad())
        {
            for (int l = 0; l < LayerCount; l++)
            {
                var ablated = layers.Select((t, j) => j == l ? Tensor.Zeros(b, d) : t.Detach()).ToList();
                var other = Mlp(ablated);
                for (int r = 0; r < b; r++)
                {
                    var diff = new float[OutputDimension];
                    System.Numerics.Tensors.TensorPrimitives.Subtract(fused.Data.Slice(r * OutputDimension, OutputDimension), other.Data.Slice(r * OutputDimension, OutputDimension), diff);
                    drops[r * LayerCount + l] = System.Numerics.Tensors.TensorPrimitives.Norm(diff);
                }
            }
        }
        contributions = FusionHelpers.NormalizeRows(drops, b, LayerCount);
        return fused;
    }
}

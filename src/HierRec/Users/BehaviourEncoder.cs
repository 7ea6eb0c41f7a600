using HierRec.Modules;
using HierRec.Text;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HierRec.Users;

/// <summary>
/// The behaviour layer: attention over the vectors of the items a user interacted with, most recent first, with a learnt
/// recency embedding per position, and a query conditioned on the profile vector (q = W p_u + q₀; q₀ alone without a
/// profile). h = W_o Attn(q, K h, h) + Σh/√n and b_u = h + MLP(h). The attention weights over the history are returned for explanations.
/// </summary>
public sealed class BehaviourEncoder : nn.Module<BehaviourInput, LayerOutput>
{
    /// <summary>Registers nothing by reflection: the constructor registers every component by name (<see cref="Training.TorchCheckpoint.State"/> says why).</summary>
    protected override void RegisterComponents() { }

    /// <summary>Creates the layer.</summary>
    public BehaviourEncoder(int dimension, int maxHistory, Generator generator, int heads = 2) : base(nameof(BehaviourEncoder))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxHistory);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(heads);
        if (dimension % heads != 0) throw new ArgumentException($"dimension {dimension} is not divisible by heads {heads}.", nameof(heads));
        Dimension = dimension;
        MaxHistory = maxHistory;
        Heads = heads;
        Recency = Layers.Embedding(maxHistory, dimension, 0.01, generator);
        QueryFromProfile = Layers.Linear(dimension, dimension, generator);
        Key = Layers.Linear(dimension, dimension, generator);
        Output = Layers.Linear(dimension, dimension, generator);
        Hidden = Layers.Linear(dimension, 2 * dimension, generator);
        Final = Layers.Linear(2 * dimension, dimension, generator);
        register_module("recency", Recency);
        register_module("query_from_profile", QueryFromProfile);
        register_parameter("query", Layers.Normal(0.1, generator, dimension));
        register_module("key", Key);
        register_module("output", Output);
        register_module("hidden", Hidden);
        register_module("final", Final);
    }

    /// <summary>First layer of the output MLP.</summary>
    public Linear Hidden { get; }

    /// <summary>Second layer of the output MLP.</summary>
    public Linear Final { get; }

    /// <summary>D.</summary>
    public int Dimension { get; }

    /// <summary>Longest history used (the most recent items).</summary>
    public int MaxHistory { get; }

    /// <summary>Attention heads.</summary>
    public int Heads { get; }

    /// <summary>Recency embeddings (position 0 = most recent).</summary>
    public Embedding Recency { get; }

    /// <summary>W of the profile-conditioned query.</summary>
    public Linear QueryFromProfile { get; }

    /// <summary>q₀.</summary>
    public Parameter QueryBias => get_parameter("query")!;

    /// <summary>Key projection.</summary>
    public Linear Key { get; }

    /// <summary>Output projection.</summary>
    public Linear Output { get; }

    /// <summary>Encodes histories (cut to <see cref="MaxHistory"/>); the weights are (B, T), T the longest history in the batch.</summary>
    public override LayerOutput forward(BehaviourInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var items = input.Items ?? throw new ArgumentException("Items is null.", nameof(input));
        if (items.dim() != 2 || items.shape[1] != Dimension)
            throw new ArgumentException($"Item vectors must be (items, {Dimension}); got {TorchInterop.ShapeString(items.shape)}.", nameof(input));
        long b = input.Histories.Count;
        if (input.Profile is not null && (input.Profile.dim() != 2 || input.Profile.shape[0] != b || input.Profile.shape[1] != Dimension))
            throw new ArgumentException($"Profile vectors must be ({b}, {Dimension}); got {TorchInterop.ShapeString(input.Profile.shape)}.", nameof(input));
        using var scope = torch.NewDisposeScope();
        using var packed = RaggedBatch.Pack(input.Histories, MaxHistory, items.device, idLimit: (int)items.shape[0], what: "item");
        long t = packed.Width;
        var positions = Scalars.Arange(t, items.device);
        var hist = items.index_select(0, packed.Ids.flatten()).reshape(b, t, Dimension).Plus(Recency.forward(positions)); // (B, T, D)
        var q = QueryBias.expand(b, Dimension);
        if (input.Profile is not null) q = q.Plus(QueryFromProfile.forward(input.Profile));
        var (attended, weights) = MaskedAttention.Attend(q.unsqueeze(1), Key.forward(hist), hist, Heads, packed.Mask);
        // Sum / √n of the history (the normalised multi-hot of autoencoder recommenders) keeps how much a user has seen.
        var scale = torch.tensor(packed.Lengths.Select(n => MathF.Sqrt(Math.Max(1, n))).ToArray(), [b, 1], device: items.device);
        var pooled = BertPooling.MaskedMean(hist, packed.Mask) * scale;
        var z = Output.forward(attended.squeeze(1)).Plus(pooled);
        var result = z.Plus(Final.forward(Hidden.forward(z).tanh()));
        return new LayerOutput(result.MoveToOuterDisposeScope(), weights.squeeze(1).MoveToOuterDisposeScope());
    }
}

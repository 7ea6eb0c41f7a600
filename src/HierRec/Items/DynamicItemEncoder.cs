using HierRec.Modules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HierRec.Items;

/// <summary>
/// The dynamic item representation: a candidate's static vector E_i (BERT text plus a learnt id for warm items) refined
/// by cross-attention from the item to the user's recent history and the request context, through a learnt gate:
/// a = Attn(W_q E_i, W_k [H; c], W_v [H; c]), g = σ(W_g [E_i; a] + b_g), S_i = E_i + g ⊙ a. The gate starts almost closed
/// (b_g = −3), so an untrained encoder ranks as the static vectors do. New items with text only have an E_i at once, so
/// they get an S_i too.
/// </summary>
/// <remarks>Concurrent inference in eval mode under no_grad is safe.</remarks>
public sealed class DynamicItemEncoder : nn.Module
{
    /// <summary>Registers nothing by reflection: the constructor registers every component by name (<see cref="Training.TorchCheckpoint.State"/> says why).</summary>
    protected override void RegisterComponents() { }

    /// <summary>Creates the encoder for D-wide vectors and up to <paramref name="maxHistory"/> history items.</summary>
    public DynamicItemEncoder(int dimension, int maxHistory, Generator generator, int heads = 2, int itemFeatures = 0, bool featureBias = false) : base(nameof(DynamicItemEncoder))
    {
        ArgumentOutOfRangeException.ThrowIfNegative(itemFeatures);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxHistory);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(heads);
        ArgumentNullException.ThrowIfNull(generator);
        if (dimension % heads != 0) throw new ArgumentException($"dimension {dimension} is not divisible by heads {heads}.", nameof(heads));
        Dimension = dimension;
        MaxHistory = maxHistory;
        Heads = heads;
        Query = Layers.Linear(dimension, dimension, generator);
        Key = Layers.Linear(dimension, dimension, generator);
        Value = Layers.Linear(dimension, dimension, generator);
        Position = Layers.Embedding(maxHistory + 1, dimension, 0.01, generator); // last slot marks the context token
        Gate = Layers.Linear(2 * dimension, dimension, generator);
        using (torch.NewDisposeScope())
        using (torch.no_grad()) Gate.bias!.FillInPlace(-3.0);
        register_module("query", Query);
        register_module("key", Key);
        register_module("value", Value);
        register_module("position", Position);
        register_module("gate", Gate);
        ItemFeatureCount = itemFeatures;
        if (itemFeatures > 0)
        {
            ItemFeatures = Layers.Linear(itemFeatures, dimension, generator);
            using (torch.NewDisposeScope())
            using (torch.no_grad())
            {
                ItemFeatures.weight!.normal_(0, 0.01, generator);
                ItemFeatures.bias!.zero_();
            }
            register_module("item_features", ItemFeatures);
            if (featureBias)
            {
                BiasHidden = Layers.Linear(itemFeatures, BiasWidth, generator);
                BiasOutput = Layers.Linear(BiasWidth, 1, generator);
                using (torch.NewDisposeScope())
                using (torch.no_grad())
                {
                    BiasOutput.weight!.zero_(); // an untrained bias adds nothing
                    BiasOutput.bias!.zero_();
                }
                register_module("bias_hidden", BiasHidden);
                register_module("bias_output", BiasOutput);
            }
        }
    }

    private const int BiasWidth = 16;

    /// <summary>
    /// The first layer of the feature bias b(f_i), a small MLP of the candidate's dynamic features added to its score,
    /// whatever the user: what a new item gathering interactions fast, or an old one fading, is worth to anyone (a dot
    /// product ⟨x_u, W f_i⟩ cannot say that); null without it.
    /// </summary>
    public Linear? BiasHidden { get; }

    /// <summary>The output layer of the feature bias (zero at initialisation), or null.</summary>
    public Linear? BiasOutput { get; }

    /// <summary>b(f_i) for (B, N, F) candidate features → (B, N), or null without a feature bias or features.</summary>
    public Tensor? FeatureBias(Tensor? candidateFeatures)
    {
        if (candidateFeatures is null || BiasHidden is null || BiasOutput is null) return null;
        using var scope = torch.NewDisposeScope();
        using var hidden = nn.functional.relu(BiasHidden.forward(candidateFeatures));
        return BiasOutput.forward(hidden).squeeze(2).MoveToOuterDisposeScope();
    }

    /// <summary>Width of the per-candidate dynamic features (0: none).</summary>
    public int ItemFeatureCount { get; }

    /// <summary>The map of the candidates' dynamic features (recent popularity, age) into the item space, or null.</summary>
    public Linear? ItemFeatures { get; }

    /// <summary>D.</summary>
    public int Dimension { get; }

    /// <summary>Most recent history items attended to.</summary>
    public int MaxHistory { get; }

    /// <summary>Attention heads.</summary>
    public int Heads { get; }

    /// <summary>W_q.</summary>
    public Linear Query { get; }

    /// <summary>W_k.</summary>
    public Linear Key { get; }

    /// <summary>W_v.</summary>
    public Linear Value { get; }

    /// <summary>Recency of history positions (0 = most recent); slot <see cref="MaxHistory"/> marks the context.</summary>
    public Embedding Position { get; }

    /// <summary>W_g and b_g.</summary>
    public Linear Gate { get; }

    /// <summary>
    /// Refines candidates: (B, N, D) static vectors of each request's candidates, (items, D) static vectors of every item
    /// (a constant, for the histories), per request the user's items most recent first (cut to <see cref="MaxHistory"/>),
    /// (B, D) context vectors or null, and (B, N, F) dynamic candidate features or null. Returns the (B, N, D) dynamic
    /// vectors S and the (B, N, T') attention weights averaged over heads (T' = history slots, then the context slot),
    /// or null weights when there was nothing to attend to.
    /// </summary>
    public (Tensor Vectors, Tensor? Weights) Forward(Tensor candidates, Tensor items, IReadOnlyList<int[]> histories, Tensor? context, Tensor? candidateFeatures = null)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(histories);
        int d = Dimension;
        if (candidates.dim() != 3 || d != candidates.shape[2] || histories.Count != candidates.shape[0])
            throw new ArgumentException($"Candidates {TorchInterop.ShapeString(candidates.shape)} must be (B, N, {d}) with one history per request ({histories.Count}).");
        long b = candidates.shape[0];
        var device = candidates.device;
        using var scope = torch.NewDisposeScope();
        if (candidateFeatures is not null)
        {
            var map = ItemFeatures ?? throw new InvalidOperationException("This encoder was built without item features.");
            candidates = candidates.Plus(map.forward(candidateFeatures));
        }
        using var packed = HierRec.Modules.RaggedBatch.Pack(histories, MaxHistory, device, idLimit: (int)items.shape[0], what: "item");
        long t = packed.Width;
        var keys = items.detach().index_select(0, packed.Ids.flatten()).reshape(b, t, d);       // (B, T, D)
        var mask = packed.Mask;
        var positions = Scalars.Arange(t, device).expand(b, t);
        if (context is not null)
        {
            keys = torch.cat([keys, context.unsqueeze(1)], 1);                                    // (B, T+1, D)
            mask = torch.cat([mask, torch.ones(b, 1, device: device)], 1);
            positions = torch.cat([positions, Scalars.Full([b, 1], MaxHistory, ScalarType.Int64, device)], 1);
        }
        if (mask.sum().item<float>() == 0) return (candidates.alias().MoveToOuterDisposeScope(), null); // nothing to attend to: the static vectors
        keys = keys.Plus(Position.forward(positions));
        var (a, weights) = MaskedAttention.Attend(Query.forward(candidates), Key.forward(keys), Value.forward(keys), Heads, mask); // (B, N, D)
        var g = Gate.forward(torch.cat([candidates, a], 2)).sigmoid();
        return (candidates.Plus(g * a).MoveToOuterDisposeScope(), weights.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// r = ⟨u, S_i⟩ (+ b(f_i) when <paramref name="bias"/> is given) for each request's candidates: users (B, D),
    /// dynamic (B, N, D), bias (B, N) → (B, N).
    /// </summary>
    public static Tensor Score(Tensor users, Tensor dynamic, Tensor? bias = null)
    {
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(dynamic);
        using var column = users.unsqueeze(2);          // (B, D, 1)
        using var product = dynamic.bmm(column);         // (B, N, 1)
        var score = product.squeeze(2);
        if (bias is null) return score;
        using (score) return score.Plus(bias);
    }
}

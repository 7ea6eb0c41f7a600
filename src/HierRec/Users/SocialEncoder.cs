using HierRec.Modules;
using HierRec.Text;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HierRec.Users;

/// <summary>
/// The social layer: attention over the behaviour vectors of a user's friends (and, optionally, friends of friends),
/// with the query conditioned on the user's own behaviour vector; s_u = W_o Attn(W_q b_u, K f, f) + mean(f).
/// Friends' vectors are inputs (a table refreshed by the trainer), so no gradient flows into other users' histories.
/// </summary>
public sealed class SocialEncoder : nn.Module<SocialInput, LayerOutput>
{
    /// <summary>Registers nothing by reflection: the constructor registers every component by name (<see cref="Training.TorchCheckpoint.State"/> says why).</summary>
    protected override void RegisterComponents() { }

    /// <summary>Most neighbours read per user.</summary>
    public const int MaxNeighbours = 4096;

    /// <summary>Creates the layer.</summary>
    public SocialEncoder(int dimension, Generator generator, int heads = 2) : base(nameof(SocialEncoder))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(heads);
        if (dimension % heads != 0) throw new ArgumentException($"dimension {dimension} is not divisible by heads {heads}.", nameof(heads));
        Dimension = dimension;
        Heads = heads;
        Query = Layers.Linear(dimension, dimension, generator);
        Key = Layers.Linear(dimension, dimension, generator);
        Output = Layers.Linear(dimension, dimension, generator);
        HopEmbedding = Layers.Embedding(2, dimension, 0.01, generator);
        register_module("query", Query);
        register_module("key", Key);
        register_module("output", Output);
        register_module("hop", HopEmbedding);
    }

    /// <summary>D.</summary>
    public int Dimension { get; }

    /// <summary>Heads.</summary>
    public int Heads { get; }

    /// <summary>Query projection of the user's behaviour vector.</summary>
    public Linear Query { get; }

    /// <summary>Key projection.</summary>
    public Linear Key { get; }

    /// <summary>Output projection.</summary>
    public Linear Output { get; }

    /// <summary>Marks first- and second-hop neighbours.</summary>
    public Embedding HopEmbedding { get; }

    /// <summary>Encodes the neighbourhoods; the weights are (B, F), F the largest neighbourhood in the batch.</summary>
    public override LayerOutput forward(SocialInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        long b = input.Neighbours.Count;
        if (input.Own.dim() != 2 || input.Own.shape[0] != b || input.Own.shape[1] != Dimension)
            throw new ArgumentException($"Own behaviour vectors must be ({b}, {Dimension}); got {TorchInterop.ShapeString(input.Own.shape)}.", nameof(input));
        if (input.Table.dim() != 2 || input.Table.shape[1] != Dimension)
            throw new ArgumentException($"The behaviour table must be (users, {Dimension}); got {TorchInterop.ShapeString(input.Table.shape)}.", nameof(input));
        using var scope = torch.NewDisposeScope();
        var device = input.Own.device;
        using var packed = RaggedBatch.Pack(input.Neighbours, MaxNeighbours, device, input.Hops, extraOffset: -1, idLimit: (int)input.Table.shape[0], what: "neighbour");
        long f = packed.Width;
        var friends = input.Table.detach().index_select(0, packed.Ids.flatten()).reshape(b, f, Dimension); // (B, F, D)
        if (packed.Extra is not null) friends = friends.Plus(HopEmbedding.forward(packed.Extra.Clamped(0, 1)));
        else friends = friends.Plus(HopEmbedding.forward(torch.zeros(b, f, dtype: ScalarType.Int64, device: device)));
        var q = Query.forward(input.Own).unsqueeze(1);
        var (attended, weights) = MaskedAttention.Attend(q, Key.forward(friends), friends, Heads, packed.Mask);
        var result = Output.forward(attended.squeeze(1)).Plus(BertPooling.MaskedMean(friends, packed.Mask));
        return new LayerOutput(result.MoveToOuterDisposeScope(), weights.squeeze(1).MoveToOuterDisposeScope());
    }
}

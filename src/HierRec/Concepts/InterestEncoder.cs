using HierRec.Modules;
using HierRec.Text;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HierRec.Concepts;

/// <summary>
/// The self-supervised behaviour interest I_u: attention pooling over the (fixed) vectors of a user's history items with
/// a recency embedding, plus their mean, refined by a residual MLP. It is trained without labels (see
/// <see cref="ConceptTrainer"/>): two augmented views of one history must agree (InfoNCE) and each view must retrieve
/// an item hidden from it, so I_u lives in the item space and sim(I_u, P_i) scores items.
/// </summary>
/// <remarks>Concurrent inference in eval mode under no_grad is safe.</remarks>
public sealed class InterestEncoder : nn.Module, IEncoder<int[]>
{
    /// <summary>Registers nothing by reflection: the constructor registers every component by name (<see cref="Training.TorchCheckpoint.State"/> says why).</summary>
    protected override void RegisterComponents() { }

    private Tensor? _items;

    /// <summary>Creates the encoder over item vectors of width <paramref name="dimension"/>.</summary>
    public InterestEncoder(int dimension, int maxHistory, Generator generator) : base(nameof(InterestEncoder))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxHistory);
        ArgumentNullException.ThrowIfNull(generator);
        Dimension = dimension;
        MaxHistory = maxHistory;
        Recency = Layers.Embedding(maxHistory, dimension, 0.01, generator);
        Key = Layers.Linear(dimension, dimension, generator);
        Hidden = Layers.Linear(dimension, 2 * dimension, generator);
        Final = Layers.Linear(2 * dimension, dimension, generator);
        register_module("recency", Recency);
        register_module("key", Key);
        register_parameter("query", Layers.Normal(0.1, generator, dimension)); // (D)
        register_module("hidden", Hidden);
        register_module("final", Final);
    }

    /// <summary>D.</summary>
    public int Dimension { get; }

    /// <summary>Longest history read (most recent items).</summary>
    public int MaxHistory { get; }

    /// <summary>Recency embedding (position 0 = most recent).</summary>
    public Embedding Recency { get; }

    /// <summary>Key projection of the attention pooling.</summary>
    public Linear Key { get; }

    /// <summary>The pooling's learnt query (D).</summary>
    public Parameter Query => get_parameter("query")!;

    /// <summary>First layer of the residual MLP.</summary>
    public Linear Hidden { get; }

    /// <summary>Second layer of the residual MLP.</summary>
    public Linear Final { get; }

    /// <summary>The item vectors <see cref="Encode"/> reads (items, D); set before calling it (the encoder keeps a detached copy).</summary>
    public Tensor? Items
    {
        get => _items;
        set
        {
            if (value is not null && (value.dim() != 2 || value.shape[1] != Dimension))
                throw new ArgumentException($"Item vectors must be (items, {Dimension}); got {TorchInterop.ShapeString(value.shape)}.", nameof(value));
            _items?.Dispose();
            _items = value is null ? null : TorchInterop.DetachedCopy(value);
        }
    }

    /// <summary>Encodes histories (item indices, most recent first) against <see cref="Items"/>.</summary>
    public Tensor Encode(IReadOnlyList<int[]> inputs) =>
        Forward(Items ?? throw new InvalidOperationException("Set InterestEncoder.Items before encoding."), inputs);

    /// <summary>Encodes histories against <paramref name="items"/> (a constant: no gradient flows into it).</summary>
    public Tensor Forward(Tensor items, IReadOnlyList<int[]> histories)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(histories);
        long b = histories.Count;
        using var scope = torch.NewDisposeScope();
        using var packed = RaggedBatch.Pack(histories, MaxHistory, items.device, idLimit: (int)items.shape[0], what: "item");
        long t = packed.Width;
        var positions = Scalars.Arange(t, items.device);
        var hist = items.detach().index_select(0, packed.Ids.flatten()).reshape(b, t, Dimension).Plus(Recency.forward(positions)); // (B, T, D)
        var q = Query.expand(b, 1, Dimension);
        var (attended, _) = MaskedAttention.Attend(q, Key.forward(hist).tanh(), hist, 1, packed.Mask);
        var z = attended.squeeze(1).Plus(BertPooling.MaskedMean(hist, packed.Mask));
        return z.Plus(Final.forward(Hidden.forward(z).tanh())).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing) _items?.Dispose();
        base.Dispose(disposing);
    }
}

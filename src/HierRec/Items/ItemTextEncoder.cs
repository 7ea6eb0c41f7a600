using HierRec.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace HierRec.Items;

/// <summary>
/// BERT over every item's text, pooled into one vector per item, fine-tuned jointly with the recommender in one of the
/// BERT modes, with the frozen part cached per item: <see cref="FineTuningKind.Frozen"/> caches the pooled vectors;
/// <see cref="FineTuningKind.FreezeBottom"/> caches the hidden states after the frozen layers and runs only the layers
/// above them each step; <see cref="FineTuningKind.Lora"/> and <see cref="FineTuningKind.Full"/> run all of BERT each
/// step. Texts are grouped by length into buckets so little padding is computed. The caches live outside any dispose
/// scope and are released by <see cref="nn.Module.Dispose()"/>.
/// </summary>
public sealed class ItemTextEncoder : nn.Module
{
    /// <summary>Registers nothing by reflection: the constructor registers every component by name (<see cref="Training.TorchCheckpoint.State"/> says why).</summary>
    protected override void RegisterComponents() { }

    private readonly (long[] Items, BertBatch Batch)[] _buckets;
    private readonly Tensor?[] _cachedHidden;
    private Tensor? _cachedPooled;
    private readonly int _frozenLayers;

    /// <summary>Prepares the encoder (applies <paramref name="mode"/> to <paramref name="bert"/>, which must have a tokenizer).</summary>
    public ItemTextEncoder(BertModel bert, IReadOnlyList<string> texts, BertFineTuning mode, PoolingKind pooling = PoolingKind.Mean, int maxLength = 48, int bucketSize = 256)
        : base(nameof(ItemTextEncoder))
    {
        ArgumentNullException.ThrowIfNull(bert);
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentNullException.ThrowIfNull(mode);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bucketSize);
        if (pooling is PoolingKind.Attention or PoolingKind.Pooler) throw new ArgumentException("Item text pooling must be Cls or Mean.", nameof(pooling));
        var tokenizer = bert.Tokenizer ?? throw new ArgumentException("The BERT model needs a tokenizer.", nameof(bert));
        Bert = bert;
        register_module("bert", bert);
        bert.ApplyFineTuning(mode);
        Mode = mode;
        Pooling = pooling;
        Count = texts.Count;
        _frozenLayers = mode.Kind switch
        {
            FineTuningKind.Frozen => bert.Config.NumHiddenLayers,
            FineTuningKind.FreezeBottom => mode.FrozenLayers,
            _ => 0,
        };
        maxLength = Math.Min(maxLength, bert.Config.MaxPositionEmbeddings);
        var encodings = texts.Select(t => tokenizer.Encode(t ?? "", maxLength: maxLength)).ToArray();
        var order = Enumerable.Range(0, encodings.Length).OrderBy(i => encodings[i].Ids.Length).ToArray();
        _buckets = order.Chunk(bucketSize).Select(items =>
            (items.Select(i => (long)i).ToArray(), BertBatch.FromEncodings(items.Select(i => encodings[i]).ToList(), tokenizer.PaddingTokenId))).ToArray();
        _cachedHidden = new Tensor?[_buckets.Length];
    }

    /// <summary>The BERT being fine-tuned (registered as module <c>bert</c>).</summary>
    public BertModel Bert { get; }

    /// <summary>The fine-tuning mode.</summary>
    public BertFineTuning Mode { get; }

    /// <summary>Pooling of token vectors.</summary>
    public PoolingKind Pooling { get; }

    /// <summary>Number of items.</summary>
    public int Count { get; }

    /// <summary>Width of the item text vectors (BERT's hidden size).</summary>
    public int Width => Bert.HiddenSize;

    /// <summary>(items, H) text vectors; differentiable with respect to BERT's trainable part while gradients are recorded.</summary>
    public Tensor forward()
    {
        if (_frozenLayers == Bert.Config.NumHiddenLayers)
        {
            if (_cachedPooled is null)
            {
                using (torch.no_grad()) _cachedPooled = Compute().DetachFromDisposeScope();
            }
            return _cachedPooled.alias();
        }
        return Compute();
    }

    private Tensor Compute()
    {
        using var scope = torch.NewDisposeScope();
        var parts = new Tensor[_buckets.Length];
        var device = Bert.Device;
        for (int b = 0; b < _buckets.Length; b++)
        {
            var (_, batch) = _buckets[b];
            var (ids, types, mask) = Bert.ToTensors(batch);
            Tensor hidden;
            if (_frozenLayers > 0)
            {
                if (_cachedHidden[b] is null)
                {
                    bool training = Bert.training;
                    Bert.eval(); // the cache must not carry dropout noise
                    try
                    {
                        using (torch.no_grad()) _cachedHidden[b] = Bert.ForwardBottom(batch, _frozenLayers).DetachFromDisposeScope();
                    }
                    finally
                    {
                        Bert.train(training);
                    }
                }
                hidden = Bert.ForwardTop(_cachedHidden[b]!, mask, _frozenLayers);
            }
            else hidden = Bert.ForwardTop(Bert.Embeddings.forward(ids, types), mask, 0);
            parts[b] = BertPooling.Pool(Pooling, hidden, mask);
        }
        var stacked = parts.Length == 1 ? parts[0] : torch.cat(parts, 0);                    // rows in bucket order
        var order = torch.tensor(_buckets.SelectMany(x => x.Items).ToArray(), device: device);
        var rows = torch.empty_like(order).index_put_(Scalars.Arange(order.shape[0], device), order); // item → row
        return stacked.index_select(0, rows).MoveToOuterDisposeScope();                       // back to item order
    }

    /// <summary>Drops the caches (they are computed again on the next call).</summary>
    public void ClearCache()
    {
        _cachedPooled?.Dispose();
        _cachedPooled = null;
        for (int i = 0; i < _cachedHidden.Length; i++)
        {
            _cachedHidden[i]?.Dispose();
            _cachedHidden[i] = null;
        }
    }

    /// <summary>
    /// Unregisters the BERT, so that disposing this encoder (or a module holding it) leaves the BERT alive: for a fit
    /// that fails with a BERT its caller passed in and still owns.
    /// </summary>
    internal void ReleaseBert()
    {
        // Under every name: besides "bert", TorchSharp registers the Bert property's backing field itself once this encoder
        // is registered in a parent. A submodule registered as null is removed.
        foreach (var (name, _) in named_children().Where(c => ReferenceEquals(c.module, Bert)).ToList()) register_module(name, null!);
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing) ClearCache();
        base.Dispose(disposing);
    }
}

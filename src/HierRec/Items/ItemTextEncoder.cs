using HierRec.Tensors;
using HierRec.Tensors.Autograd;
using HierRec.Tensors.Layers;
using HierRec.Text;
using HierRec.Text.Legacy;
using BertModel = HierRec.Text.Legacy.BertModel;
using BertPooling = HierRec.Text.Legacy.BertPooling;

namespace HierRec.Items;

/// <summary>
/// BERT over every item's text, pooled into one vector per item, fine-tuned jointly with the recommender in one of the
/// BERT modes, with the frozen part cached per item: <see cref="FineTuningKind.Frozen"/> caches the pooled vectors;
/// <see cref="FineTuningKind.FreezeBottom"/> caches the hidden states after the frozen layers and runs only the layers
/// above them each step; <see cref="FineTuningKind.Lora"/> and <see cref="FineTuningKind.Full"/> run all of BERT each
/// step. Texts are grouped by length into buckets so little padding is computed.
/// </summary>
public sealed class ItemTextEncoder : Module
{
    private readonly (int[] Items, BertBatch Batch, Tensor Mask)[] _buckets;
    private readonly Tensor?[] _cachedHidden;
    private Tensor? _cachedPooled;
    private readonly int _frozenLayers;

    /// <summary>Prepares the encoder (applies <paramref name="mode"/> to <paramref name="bert"/>, which must have a tokenizer).</summary>
    public ItemTextEncoder(BertModel bert, IReadOnlyList<string> texts, BertFineTuning mode, PoolingKind pooling = PoolingKind.Mean, int maxLength = 48, int bucketSize = 256)
    {
        ArgumentNullException.ThrowIfNull(bert);
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentNullException.ThrowIfNull(mode);
        if (pooling is PoolingKind.Attention or PoolingKind.Pooler) throw new ArgumentException("Item text pooling must be Cls or Mean.", nameof(pooling));
        var tokenizer = bert.Tokenizer ?? throw new ArgumentException("The BERT model needs a tokenizer.", nameof(bert));
        Bert = RegisterModule("bert", bert);
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
        {
            var batch = BertBatch.FromEncodings(items.Select(i => encodings[i]).ToList(), tokenizer.PadId);
            return (items, batch, batch.MaskTensor());
        }).ToArray();
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
    public Tensor Forward()
    {
        if (_frozenLayers == Bert.Config.NumHiddenLayers)
        {
            if (_cachedPooled is null)
            {
                using (GradMode.NoGrad()) _cachedPooled = Compute();
            }
            return _cachedPooled;
        }
        return Compute();
    }

    private Tensor Compute()
    {
        int h = Bert.HiddenSize;
        var parts = new Tensor[_buckets.Length];
        var rowOf = new int[Count];
        int row = 0;
        for (int b = 0; b < _buckets.Length; b++)
        {
            var (items, batch, mask) = _buckets[b];
            Tensor hidden;
            if (_frozenLayers > 0)
            {
                if (_cachedHidden[b] is null)
                {
                    using (Bert.EvalScope()) // the cache must not carry dropout noise
                    using (GradMode.NoGrad()) _cachedHidden[b] = Bert.ForwardBottom(batch, _frozenLayers);
                }
                hidden = Bert.ForwardTop(_cachedHidden[b]!, mask, _frozenLayers);
            }
            else hidden = Bert.ForwardTop(Bert.Embeddings.Forward(batch), mask, 0);
            parts[b] = BertPooling.Pool(Pooling, hidden, mask);
            foreach (int i in items) rowOf[i] = row++;
        }
        var stacked = parts.Length == 1 ? parts[0] : Ops.Concat(parts, 0); // rows in bucket order
        return Ops.Embedding(stacked, rowOf, Count);                         // back to item order
    }
}

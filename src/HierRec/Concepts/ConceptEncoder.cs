using System.Collections.Concurrent;
using HierRec.Modules;
using HierRec.Text;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HierRec.Concepts;

/// <summary>
/// The concept encoder: a description's BERT token vectors W (T, H) → self-attention with learnt W^Q, W^K, W^V,
/// Z = softmax(QKᵀ/√D) V + V → attention pooling (a learnt query over Z, whose weights are kept for explanations) →
/// a linear map into the item space: C (D). BERT is frozen here and its token vectors are cached per text.
/// </summary>
/// <remarks>
/// The BERT is not a sub-module (it is saved on its own). Concurrent <see cref="Describe"/> calls in eval mode are safe.
/// </remarks>
public sealed class ConceptEncoder : nn.Module, IEncoder<string>
{
    /// <summary>Registers nothing by reflection: the constructor registers every component by name (<see cref="Training.TorchCheckpoint.State"/> says why).</summary>
    protected override void RegisterComponents() { }

    private readonly ConcurrentDictionary<string, (int[] Ids, float[] Hidden)> _cache = new(StringComparer.Ordinal);

    /// <summary>Creates the encoder over <paramref name="bert"/> (which must carry a tokenizer).</summary>
    /// <param name="bert">The text encoder; frozen.</param>
    /// <param name="dimension">D, the item space's width.</param>
    /// <param name="generator">Initialisation.</param>
    /// <param name="maxLength">Longest description part read, in tokens.</param>
    /// <param name="parser">Clause splitting and polarity; default cues when null.</param>
    public ConceptEncoder(BertModel bert, int dimension, Generator generator, int maxLength = 48, DescriptionParser? parser = null) : base(nameof(ConceptEncoder))
    {
        ArgumentNullException.ThrowIfNull(bert);
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 3);
        if (bert.Tokenizer is null) throw new ArgumentException("The concept encoder's BERT needs a tokenizer.", nameof(bert));
        Bert = bert;
        bert.eval(); // the cached token vectors must not carry dropout noise
        Dimension = dimension;
        MaxLength = Math.Min(maxLength, bert.Config.MaxPositionEmbeddings);
        Parser = parser ?? new DescriptionParser();
        int h = bert.HiddenSize;
        Query = Layers.Linear(h, dimension, generator);
        Key = Layers.Linear(h, dimension, generator);
        Value = Layers.Linear(h, dimension, generator);
        Pooling = new AttentionPooling(dimension);
        Output = Layers.Linear(dimension, dimension, generator);
        register_module("query", Query);
        register_module("key", Key);
        register_module("value", Value);
        register_module("pooling", Pooling);
        register_module("output", Output);
    }

    /// <summary>The frozen text encoder.</summary>
    public BertModel Bert { get; }

    /// <summary>D.</summary>
    public int Dimension { get; }

    /// <summary>Token limit.</summary>
    public int MaxLength { get; }

    /// <summary>Clause splitting.</summary>
    public DescriptionParser Parser { get; }

    /// <summary>W^Q.</summary>
    public Linear Query { get; }

    /// <summary>W^K.</summary>
    public Linear Key { get; }

    /// <summary>W^V.</summary>
    public Linear Value { get; }

    /// <summary>The attention pooling over the self-attended tokens.</summary>
    public AttentionPooling Pooling { get; }

    /// <summary>The map into the item space.</summary>
    public Linear Output { get; }

    /// <summary>Encodes texts (already reduced to concept content, e.g. "mystery, thriller") into (B, D).</summary>
    public Tensor Encode(IReadOnlyList<string> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count == 0) return torch.zeros(0, Dimension, device: Layers.DeviceOf(this));
        var (vectors, weights, _) = Forward(inputs);
        weights.Dispose();
        return vectors;
    }

    /// <summary>The (B, D) concepts, the (B, T) pooling weights and each row's token ids (specials included).</summary>
    public (Tensor Vectors, Tensor Weights, int[][] TokenIds) Forward(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (texts.Count == 0) throw new ArgumentException("No texts to encode.", nameof(texts));
        int b = texts.Count, h = Bert.HiddenSize;
        var rows = new (int[] Ids, float[] Hidden)[b];
        for (int r = 0; r < b; r++) rows[r] = Tokens(texts[r] ?? throw new ArgumentException($"texts[{r}] is null.", nameof(texts)));
        int t = rows.Max(x => x.Ids.Length);
        var hidden = new float[b * t * h];
        var keyMask = new float[b * t];
        var poolMask = new float[b * t];
        var tokenizer = Bert.Tokenizer!;
        var tokenIds = new int[b][];
        for (int r = 0; r < b; r++)
        {
            var (ids, vectors) = rows[r];
            tokenIds[r] = ids;
            vectors.CopyTo(hidden, r * t * h);
            bool any = false;
            for (int j = 0; j < ids.Length; j++)
            {
                keyMask[r * t + j] = 1f;
                bool special = ids[j] == tokenizer.ClassificationTokenId || ids[j] == tokenizer.SeparatorTokenId || ids[j] == tokenizer.PaddingTokenId;
                if (!special) { poolMask[r * t + j] = 1f; any = true; }
            }
            if (!any) poolMask[r * t] = 1f; // nothing but specials: pool [CLS]
        }
        using var scope = torch.NewDisposeScope();
        var device = Layers.DeviceOf(this);
        var x = torch.tensor(hidden, [b, t, h], device: device).to_type(Query.weight!.dtype);
        var v = Value.forward(x);                                                                     // (B, T, D)
        var (attended, _) = MaskedAttention.Attend(Query.forward(x), Key.forward(x), v, 1, torch.tensor(keyMask, [b, t], device: device));
        var z = attended.Plus(v);                                                                          // (B, T, D)
        var (pooled, weights) = Pooling.PoolWithWeights(z, torch.tensor(poolMask, [b, t], device: device)); // (B, D), (B, T)
        return (Output.forward(pooled).MoveToOuterDisposeScope(), weights.MoveToOuterDisposeScope(), tokenIds);
    }

    /// <summary>
    /// Splits <paramref name="description"/> into positive and negative clauses and encodes each side without gradients
    /// (the encoder has no dropout, so training and eval mode agree). A side without clauses has a null vector.
    /// </summary>
    /// <param name="description">The user's words, in any language the BERT's vocabulary covers.</param>
    /// <param name="handleNegation">False reads every clause as positive (the ablation).</param>
    public ConceptVector Describe(string description, bool handleNegation = true)
    {
        ArgumentNullException.ThrowIfNull(description);
        var clauses = Parser.Split(description, handleNegation);
        string positive = string.Join(", ", clauses.Where(c => !c.Negative && c.Content.Length > 0).Select(c => c.Content));
        string negative = string.Join(", ", clauses.Where(c => c.Negative && c.Content.Length > 0).Select(c => c.Content));
        var texts = new List<string>(2);
        if (positive.Length > 0) texts.Add(positive);
        if (negative.Length > 0) texts.Add(negative);
        if (texts.Count == 0) return new ConceptVector(description, clauses, null, null, [], []);
        float[] vectors, weights;
        int[][] ids;
        int t;
        using (torch.no_grad())
        {
            var (v, w, tokenIds) = Forward(texts);
            using (v)
            using (w)
            {
                vectors = TorchInterop.ToFloats(v);
                weights = TorchInterop.ToFloats(w);
                t = (int)w.shape[1];
            }
            ids = tokenIds;
        }
        int d = Dimension;
        IReadOnlyList<TokenWeight> TokensOf(int row) => DescriptionWords.Merge(Bert.Tokenizer!, texts[row], ids[row], weights.AsSpan(row * t, t));
        int negRow = positive.Length > 0 ? 1 : 0;
        return new ConceptVector(description, clauses,
            positive.Length > 0 ? vectors.AsSpan(0, d).ToArray() : null,
            negative.Length > 0 ? vectors.AsSpan(negRow * d, d).ToArray() : null,
            positive.Length > 0 ? TokensOf(0) : [], negative.Length > 0 ? TokensOf(negRow) : []);
    }

    /// <summary>Most texts whose BERT vectors are cached (training texts, item texts); beyond it texts are encoded each time. Default 200,000.</summary>
    public int CacheCapacity { get; init; } = 200_000;

    internal int CachedTexts => _cache.Count;

    /// <summary>Token ids and last-layer BERT vectors of a text, computed once (eval mode, no gradients; BERT is frozen here).</summary>
    /// <remarks>The cache is bounded by <see cref="CacheCapacity"/>, so a server describing ever-new texts does not grow without end.</remarks>
    private (int[] Ids, float[] Hidden) Tokens(string text)
    {
        if (_cache.TryGetValue(text, out var hit)) return hit;
        var encoding = Bert.Tokenizer!.Encode(text, maxLength: MaxLength);
        float[] hidden;
        using (torch.NewDisposeScope()) // the batch's tensors and every temporary die here, not on the finalizer thread
        using (torch.no_grad())
        using (var output = Bert.Forward(BertBatch.FromEncodings([encoding], Bert.Config.PadTokenId)))
            hidden = TorchInterop.ToFloats(output.LastHiddenState);
        var result = (encoding.Ids, hidden);
        if (_cache.Count < CacheCapacity) _cache.TryAdd(text, result);
        return result;
    }
}

using System.Collections.Concurrent;
using HierRec.Tensors;
using HierRec.Tensors.Autograd;
using HierRec.Tensors.Layers;
using HierRec.Text;
using HierRec.Text.Legacy;
using BertModel = HierRec.Text.Legacy.BertModel;
using AttentionPooling = HierRec.Text.Legacy.AttentionPooling;

namespace HierRec.Concepts;

/// <summary>A description token and its attention weight in the concept vector.</summary>
public readonly record struct TokenWeight(string Token, double Weight);

/// <summary>What a description says, as vectors in the item space.</summary>
/// <param name="Description">The user's words.</param>
/// <param name="Clauses">The clauses with their polarity.</param>
/// <param name="Positive">C⁺: the concept of the positive clauses (D), or null when there are none.</param>
/// <param name="Negative">C⁻: the concept of the negative clauses (D), or null when there are none.</param>
/// <param name="PositiveTokens">The tokens read for C⁺ with their pooling attention weights (summing to 1).</param>
/// <param name="NegativeTokens">The tokens read for C⁻ with their weights.</param>
public sealed record ConceptVector(string Description, IReadOnlyList<ConceptClause> Clauses, float[]? Positive, float[]? Negative,
    IReadOnlyList<TokenWeight> PositiveTokens, IReadOnlyList<TokenWeight> NegativeTokens);

/// <summary>
/// The concept encoder: a description's BERT token vectors W (T, H) → self-attention with learnt W^Q, W^K, W^V,
/// Z = softmax(QKᵀ/√D) V + V → attention pooling (a learnt query over Z, whose weights are kept for explanations) →
/// a linear map into the item space: C (D). BERT is frozen here and its token vectors are cached per text.
/// </summary>
/// <remarks>
/// The BERT is not a sub-module (it is saved on its own). Concurrent <see cref="Describe"/> calls in eval mode are safe.
/// </remarks>
public sealed class ConceptEncoder : Module
{
    private readonly ConcurrentDictionary<string, (int[] Ids, float[] Hidden)> _cache = new(StringComparer.Ordinal);

    /// <summary>Creates the encoder over <paramref name="bert"/> (which must carry a tokenizer).</summary>
    /// <param name="bert">The text encoder; frozen.</param>
    /// <param name="dimension">D, the item space's width.</param>
    /// <param name="rng">Initialisation.</param>
    /// <param name="maxLength">Longest description part read, in tokens.</param>
    /// <param name="parser">Clause splitting and polarity; default cues when null.</param>
    public ConceptEncoder(BertModel bert, int dimension, Rng rng, int maxLength = 48, DescriptionParser? parser = null)
    {
        ArgumentNullException.ThrowIfNull(bert);
        ArgumentNullException.ThrowIfNull(rng);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 3);
        if (bert.Tokenizer is null) throw new ArgumentException("The concept encoder's BERT needs a tokenizer.", nameof(bert));
        Bert = bert;
        Dimension = dimension;
        MaxLength = Math.Min(maxLength, bert.Config.MaxPositionEmbeddings);
        Parser = parser ?? new DescriptionParser();
        int h = bert.HiddenSize;
        Query = RegisterModule("query", new Linear(h, dimension, rng));
        Key = RegisterModule("key", new Linear(h, dimension, rng));
        Value = RegisterModule("value", new Linear(h, dimension, rng));
        Pooling = RegisterModule("pooling", new AttentionPooling(dimension));
        Output = RegisterModule("output", new Linear(dimension, dimension, rng));
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
    public Tensor Encode(IReadOnlyList<string> inputs) => Forward(inputs, out _, out _);

    /// <summary>As <see cref="Encode"/>, returning the (B, T) pooling weights and each row's token ids (specials included).</summary>
    public Tensor Forward(IReadOnlyList<string> texts, out Tensor weights, out int[][] tokenIds)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (texts.Count == 0) throw new ArgumentException("No texts to encode.", nameof(texts));
        int b = texts.Count, h = Bert.HiddenSize;
        var rows = new (int[] Ids, float[] Hidden)[b];
        for (int r = 0; r < b; r++) rows[r] = Tokens(texts[r] ?? throw new ArgumentException($"texts[{r}] is null.", nameof(texts)));
        int t = rows.Max(x => x.Ids.Length);
        var hidden = new Tensor(b, t, h);
        var keyMask = new Tensor(b, t);
        var poolMask = new Tensor(b, t);
        var tokenizer = Bert.Tokenizer!;
        tokenIds = new int[b][];
        for (int r = 0; r < b; r++)
        {
            var (ids, vectors) = rows[r];
            tokenIds[r] = ids;
            vectors.CopyTo(hidden.Data.Slice(r * t * h, vectors.Length));
            bool any = false;
            for (int j = 0; j < ids.Length; j++)
            {
                keyMask.Data[r * t + j] = 1f;
                bool special = ids[j] == tokenizer.ClsId || ids[j] == tokenizer.SepId || ids[j] == tokenizer.PadId;
                if (!special) { poolMask.Data[r * t + j] = 1f; any = true; }
            }
            if (!any) poolMask.Data[r * t] = 1f; // nothing but specials: pool [CLS]
        }
        var v = Value.Forward(hidden);                                                     // (B, T, D)
        var z = Ops.Attention(Query.Forward(hidden), Key.Forward(hidden), v, 1, keyMask) + v; // (B, T, D)
        var pooled = Pooling.Forward(z, poolMask, out weights);                               // (B, D)
        return Output.Forward(pooled);
    }

    /// <summary>
    /// Splits <paramref name="description"/> into positive and negative clauses and encodes each side (in eval mode, no
    /// gradients). A side without clauses has a null vector.
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
        Tensor vectors, weights;
        int[][] ids;
        using (EvalScope())
        using (GradMode.NoGrad()) vectors = Forward(texts, out weights, out ids);
        int t = weights.Dim(1), d = Dimension;
        IReadOnlyList<TokenWeight> TokensOf(int row) => ids[row].Select((id, j) => (id, j))
            .Where(p => weights.Data[row * t + p.j] > 0).Select(p => new TokenWeight(Bert.Tokenizer!.Token(p.id), weights.Data[row * t + p.j])).ToArray();
        int negRow = positive.Length > 0 ? 1 : 0;
        return new ConceptVector(description, clauses,
            positive.Length > 0 ? vectors.Data.Slice(0, d).ToArray() : null,
            negative.Length > 0 ? vectors.Data.Slice(negRow * d, d).ToArray() : null,
            positive.Length > 0 ? TokensOf(0) : [], negative.Length > 0 ? TokensOf(negRow) : []);
    }

    /// <summary>Most texts whose BERT vectors are cached (training texts, item texts); beyond it texts are encoded each time. Default 200,000.</summary>
    public int CacheCapacity { get; init; } = 200_000;

    internal int CachedTexts => _cache.Count;

    /// <summary>Token ids and last-layer BERT vectors of a text, computed once (no gradients; BERT is frozen here).</summary>
    /// <remarks>The cache is bounded by <see cref="CacheCapacity"/>, so a server describing ever-new texts does not grow without end.</remarks>
    private (int[] Ids, float[] Hidden) Tokens(string text)
    {
        if (_cache.TryGetValue(text, out var hit)) return hit;
        var encoding = Bert.Tokenizer!.Encode(text, maxLength: MaxLength);
        (int[], float[]) result;
        using (Bert.EvalScope())
        using (GradMode.NoGrad())
            result = (encoding.Ids, Bert.Forward(BertBatch.FromEncodings([encoding], Bert.Config.PadTokenId)).LastHiddenState.ToArray());
        if (_cache.Count < CacheCapacity) _cache.TryAdd(text, result);
        return result;
    }
}

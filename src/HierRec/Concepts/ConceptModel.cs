using HierRec.Ranking;
using HierRec.Serialization;
using HierRec.Text;
using HierRec.Training;
using TorchSharp;
using static TorchSharp.torch;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace HierRec.Concepts;

/// <summary>
/// The concept side of a recommender: the <see cref="ConceptEncoder"/> of descriptions, the self-supervised
/// <see cref="InterestEncoder"/>, the item vectors P both live with, and the filter thresholds.
/// </summary>
/// <remarks>Immutable once trained apart from <see cref="PositiveThreshold"/> and <see cref="NegativeThreshold"/>; serving methods are thread-safe.</remarks>
public sealed partial class ConceptModel : IDisposable
{
    private float[] _normalizedItems; // the rows the filter compares concepts with, unit length
    private readonly float[] _items;   // P, row-major
    private float[]? _itemConcepts;
    private float[] _filterCenter; // subtracted from concepts and item rows before the cosine (the mean item concept, or zeros)

    /// <summary>Assembles a model over <paramref name="items"/> (items, D; copied).</summary>
    public ConceptModel(ConceptEncoder encoder, InterestEncoder interest, Tensor items, float positiveThreshold = float.NegativeInfinity, float negativeThreshold = 0.5f)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(interest);
        ArgumentNullException.ThrowIfNull(items);
        if (items.dim() != 2 || items.shape[1] != encoder.Dimension || interest.Dimension != encoder.Dimension)
            throw new ArgumentException($"Item vectors {TorchInterop.ShapeString(items.shape)}, the concept encoder ({encoder.Dimension}) and the interest encoder ({interest.Dimension}) must share D.");
        Encoder = encoder;
        Interest = interest;
        interest.Items = items;
        ItemCount = (int)items.shape[0];
        Dimension = (int)items.shape[1];
        _items = Rows(items);
        _filterCenter = new float[Dimension];
        _normalizedItems = NormalizedRows(_items, Dimension);
        PositiveThreshold = positiveThreshold;
        NegativeThreshold = negativeThreshold;
    }

    /// <summary>The catalogue's item-text words for the negative filter's lexical guard, or null (no guard).</summary>
    public ItemWords? ItemWords { get; set; }

    /// <summary>The description encoder.</summary>
    public ConceptEncoder Encoder { get; }

    /// <summary>The self-supervised behaviour interest.</summary>
    public InterestEncoder Interest { get; }

    /// <summary>P: the item vectors (items, D), as the interest encoder reads them.</summary>
    public Tensor Items => Interest.Items!;

    /// <summary>Items in P.</summary>
    public int ItemCount { get; }

    /// <summary>D.</summary>
    public int Dimension { get; }

    /// <summary>P, row-major (ItemCount × Dimension), for the ranker.</summary>
    internal ReadOnlySpan<float> ItemRows => _items;

    private static float[] Rows(Tensor t) => TorchInterop.ToFloats(t);

    /// <summary>
    /// T: each item's own text read by the concept encoder (items, D), or null. When set, the filter compares concepts with
    /// T_i (words with words, in the encoder's space; both centred on the mean item concept μ_T) instead of the item
    /// vectors P_i; steering always uses P.
    /// </summary>
    public float[]? ItemConcepts
    {
        get => _itemConcepts;
        set
        {
            if (value is not null && value.Length != _items.Length)
                throw new ArgumentException($"Item concepts must be {ItemCount} × {Dimension} values; got {value.Length}.", nameof(value));
            _itemConcepts = value;
            // Encoder outputs share a common direction (cosines of unrelated texts crowd near 0.7); centring on the mean
            // item concept spreads them, so one threshold means the same for every description.
            _filterCenter = value is null ? new float[Dimension] : MeanRow(value, Dimension);
            _normalizedItems = NormalizedRows(value ?? _items, Dimension, _filterCenter);
        }
    }

    private static float[] NormalizedRows(float[] t, int d, float[]? center = null)
    {
        int n = t.Length / d;
        var r = new float[n * d];
        var row = new float[d];
        for (int i = 0; i < n; i++)
        {
            t.AsSpan(i * d, d).CopyTo(row);
            if (center is not null) TensorPrimitives.Subtract(row, center, row);
            ConceptFilter.Normalized(row).CopyTo(r, i * d);
        }
        return r;
    }

    private static float[] MeanRow(float[] t, int d)
    {
        int n = t.Length / d;
        var mean = new float[d];
        for (int i = 0; i < n; i++) TensorPrimitives.Add(mean, t.AsSpan(i * d, d), mean);
        if (n > 0) TensorPrimitives.Divide(mean, n, mean);
        return mean;
    }

    private float[]? Centered(float[]? concept)
    {
        if (concept is null) return null;
        var r = new float[concept.Length];
        TensorPrimitives.Subtract(concept, _filterCenter, r);
        return r;
    }

    /// <summary>θ: items with sim(C⁺, P_i) below it are filtered out (−∞: no positive filter).</summary>
    public float PositiveThreshold { get; set; }

    /// <summary>
    /// θ⁻: items with sim(C⁻, P_i) at or above it are filtered out (+∞: no similarity filter on the negative side; the
    /// lexical guard of <see cref="ItemWords"/> still removes the items whose text names a rejected word).
    /// </summary>
    public float NegativeThreshold { get; set; }

    /// <summary>
    /// The θ⁻ a rejection falls back to when <see cref="NegativeThreshold"/> is +∞ and no item text names its words (a
    /// Chinese rejection of an English catalogue in words the glossary lacks, or any rejection without <see cref="ItemWords"/>): a rejection is never
    /// a no-op. +∞: no fallback. Set by calibration (<see cref="ConceptOptions.NegativeFallbackQuantile"/>).
    /// </summary>
    public float NegativeFallbackThreshold { get; set; } = float.PositiveInfinity;

    /// <summary>β: how far a description steers a user's query towards its positive concept (0: not at all).</summary>
    public float SteeringWeight { get; set; }

    /// <summary>
    /// The query x_u + β |x_u| Ĉ⁺: towards what the description asks for (x_u itself when β is 0 or there is no positive
    /// side). What it rejects is left to the filter: steering away from C⁻ cost validation accuracy in our measurements.
    /// </summary>
    public float[] Steer(ReadOnlySpan<float> user, ConceptVector concept, float? steeringWeight = null)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(concept);
        var q = user.ToArray();
        float beta = steeringWeight ?? SteeringWeight;
        if (beta == 0 || concept.Positive is null) return q;
        if (concept.Positive.Length != q.Length) throw new ArgumentException($"User vector of {q.Length} values for concepts of {concept.Positive.Length}.", nameof(user));
        TensorPrimitives.MultiplyAdd(ConceptFilter.Normalized(concept.Positive), beta * TensorPrimitives.Norm(q), q, q);
        return q;
    }

    /// <summary>
    /// β of text cold start: someone known only by a description is served q = x_∅ + β |x_∅| Ĉ⁺, where x_∅ is the
    /// recommender's vector of a user with nothing known (which ranks by what everyone likes); +∞ ranks by C⁺ alone.
    /// </summary>
    public float ColdSteeringWeight { get; set; } = float.PositiveInfinity;

    /// <summary>
    /// The text-cold-start query (see <see cref="ColdSteeringWeight"/>): x_∅ steered as in <see cref="Steer"/>, or C⁺ itself at
    /// β = +∞ (x_∅ when there is no positive side).
    /// </summary>
    public float[] SteerNewUser(ReadOnlySpan<float> emptyUser, ConceptVector concept, float? coldSteeringWeight = null)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(concept);
        float beta = coldSteeringWeight ?? ColdSteeringWeight;
        if (concept.Positive is null) return emptyUser.ToArray();
        return float.IsPositiveInfinity(beta) || emptyUser.IsEmpty ? concept.Positive.ToArray() : Steer(emptyUser, concept, beta);
    }

    /// <summary>
    /// β_w: word steering. Items whose own text names a word of the description's positive clauses ("likes mystery":
    /// every item whose text says Mystery, through <see cref="ItemWords"/>) get β_w σ_u added to their score, where σ_u
    /// is the standard deviation of the user's scores over the catalogue: at 1, a named item gains one spread of the
    /// user's scores. 0: off (and always off without <see cref="ItemWords"/>, or for a description whose words no item
    /// text names, even through <see cref="ConceptCues.Glossary"/>). Chosen on validation by
    /// <see cref="ConceptTrainer"/>: the largest weight whose NDCG@10 is no lower than without a description.
    /// </summary>
    public float WordSteeringWeight { get; set; }

    /// <summary>β_w of text cold start (see <see cref="WordSteeringWeight"/>), chosen with <see cref="ColdSteeringWeight"/>.</summary>
    public float ColdWordSteeringWeight { get; set; }

    /// <summary>
    /// The items word steering lifts for <paramref name="concept"/>: those whose text names a word of a positive clause
    /// (empty without <see cref="ItemWords"/>).
    /// </summary>
    public IReadOnlyCollection<int> Named(ConceptVector concept)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(concept);
        if (ItemWords is null) return [];
        return ItemWords.Mentioning(Encoder.Parser.Cues.WithGlossary(string.Join(' ', concept.Clauses.Where(c => !c.Negative).Select(c => c.Content))));
    }

    /// <summary>
    /// The word-steering bonus β_w σ for a query whose scores over the whole catalogue are <paramref name="scores"/>.
    /// </summary>
    public static float WordBonus(ReadOnlySpan<float> scores, float weight) => weight == 0 ? 0 : weight * ScoreStatistics.StandardDeviation(scores);

    /// <summary>
    /// Word steering applied to a query's exact <paramref name="scores"/> over the catalogue, in place: the
    /// <paramref name="named"/> items (<see cref="Named"/>) gain <see cref="WordBonus"/> at <paramref name="weight"/>.
    /// Returns the bonus (0 when nothing is named). Ranking and explanations share it.
    /// </summary>
    internal static float Lift(Span<float> scores, IReadOnlyCollection<int> named, float weight)
    {
        if (named.Count == 0 || weight == 0) return 0;
        float bonus = WordBonus(scores, weight);
        foreach (int i in named) if ((uint)i < (uint)scores.Length) scores[i] += bonus;
        return bonus;
    }

    /// <summary>
    /// Ranks <paramref name="query"/> (already steered) on <paramref name="index"/> with word steering for
    /// <paramref name="concept"/> at <paramref name="wordWeight"/> (default <see cref="WordSteeringWeight"/>): the index's own
    /// ranking when no item is named or the weight is 0; otherwise exact scores of every item, the bonus added to the named
    /// ones, the filter applied, and P(i|u) the softmax of the lifted scores over the whole catalogue.
    /// </summary>
    public RankedItem[] Rank(ItemIndex index, float[] query, ConceptVector concept, int k, RankOptions? options = null, float? wordWeight = null)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(concept);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        options ??= new RankOptions();
        float weight = wordWeight ?? WordSteeringWeight;
        var named = weight == 0 ? [] : Named(concept);
        if (named.Count == 0) return index.Rank(query, k, options);
        var scores = new float[index.Count];
        index.Score(query, scores);
        Lift(scores, named, weight);
        return ScoreStatistics.Top(scores, k, options);
    }

    /// <summary>Splits and encodes a description.</summary>
    public ConceptVector Describe(string description, bool handleNegation = true)
    {
        ThrowIfDisposed();
        return Encoder.Describe(description, handleNegation);
    }

    /// <summary>
    /// The ranker filter for a described concept, at the model's thresholds unless given: the lexical guard (items whose
    /// text names a rejected word), sim(C⁻, P_i) ≥ θ⁻, and sim(C⁺, P_i) &lt; θ. With the model's own θ⁻ at +∞, a rejection
    /// whose words no item text names falls back to <see cref="NegativeFallbackThreshold"/>.
    /// </summary>
    public ConceptFilter Filter(ConceptVector concept, float? positiveThreshold = null, float? negativeThreshold = null)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(concept);
        float negative = negativeThreshold ?? NegativeThreshold;
        var rejected = string.Join(' ', concept.Clauses.Where(c => c.Negative).Select(c => c.Content));
        var mentioned = ItemWords is null || rejected.Length == 0 ? null : ItemWords.Mentioning(Encoder.Parser.Cues.WithGlossary(rejected));
        if (negativeThreshold is null && float.IsPositiveInfinity(negative) && mentioned is not { Count: > 0 }) negative = NegativeFallbackThreshold;
        return new ConceptFilter(_normalizedItems, Dimension, Centered(concept.Positive), Centered(concept.Negative),
            positiveThreshold ?? PositiveThreshold, negative, mentioned);
    }

    /// <summary>I_u of a history (item indices, most recent first), in eval mode without gradients.</summary>
    public float[] InterestOf(int[] history)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(history);
        using var noGrad = torch.no_grad();
        using var vector = Interest.Forward(Items, [history]);
        return Rows(vector);
    }

    /// <summary>cos(v − μ_T, T_i − μ_T), or cos(v, P_i) without <see cref="ItemConcepts"/>: the similarity the filter uses.</summary>
    public float Similarity(ReadOnlySpan<float> vector, int item)
    {
        ThrowIfDisposed();
        return TensorPrimitives.Dot(ConceptFilter.Normalized(Centered(vector.ToArray())), _normalizedItems.AsSpan(item * Dimension, Dimension));
    }

    private bool _disposed;

    /// <summary>True once <see cref="Dispose"/> ran: every method then throws <see cref="ObjectDisposedException"/>.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed);

    internal void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(IsDisposed, this);

    /// <summary>
    /// Frees the native memory of the description encoder (its BERT included) and the interest encoder. Idempotent; the
    /// item vectors P belong to whoever passed them. <see cref="HierarchicalRecommender.Dispose"/> disposes its concept model.
    /// </summary>
    public void Dispose()
    {
        Volatile.Write(ref _disposed, true);
        Encoder.Dispose();
        Encoder.Bert.Dispose(); // not a registered child of the encoder (it is frozen and shared by its token cache)
        Interest.Dispose();
    }
}

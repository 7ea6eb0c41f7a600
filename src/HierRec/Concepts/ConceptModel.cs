using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using HierRec.Tensors;
using HierRec.Tensors.Autograd;
using HierRec.Tensors.Serialization;
using HierRec.Text;
using HierRec.Text.Legacy;
using BertModel = HierRec.Text.Legacy.BertModel;

namespace HierRec.Concepts;

/// <summary>Training and filtering of concepts. Defaults are documented per property.</summary>
public sealed record ConceptOptions
{
    /// <summary>Most epochs of the self-supervised interest objective. Default 30.</summary>
    public int InterestEpochs { get; init; } = 30;

    /// <summary>Most epochs of the description-to-interest alignment. Default 40.</summary>
    public int AlignmentEpochs { get; init; } = 40;

    /// <summary>Epochs without a better validation NDCG@10 before a phase stops. Default 5.</summary>
    public int Patience { get; init; } = 5;

    /// <summary>Users per step. Default 128.</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>AdamW learning rate. Default 2e-3.</summary>
    public float LearningRate { get; init; } = 2e-3f;

    /// <summary>AdamW weight decay. Default 0.01.</summary>
    public float WeightDecay { get; init; } = 0.01f;

    /// <summary>Temperature τ of the InfoNCE objectives (on cosines). Default 0.1.</summary>
    public float Temperature { get; init; } = 0.1f;

    /// <summary>
    /// Weight of the item terms: each view of a history must retrieve an item hidden from it, and a description must
    /// retrieve an item of its user's history. Default 1.
    /// </summary>
    public float ItemLossWeight { get; init; } = 1f;

    /// <summary>
    /// Weight of the item-text term of the alignment: the concept encoder reading an item's own text must retrieve that
    /// item from the catalogue, so words in descriptions land near the items whose texts use them. Default 1.
    /// </summary>
    public float ItemTextWeight { get; init; } = 1f;

    /// <summary>
    /// Filter by the items' texts read by the concept encoder (T_i) rather than by the item vectors P_i. Default true:
    /// a description's words then meet item texts in one space.
    /// </summary>
    public bool FilterOnItemText { get; init; } = true;

    /// <summary>Share of items dropped by the mask augmentation. Default 0.3.</summary>
    public double MaskShare { get; init; } = 0.3;

    /// <summary>Share of the history kept by the crop augmentation. Default 0.6.</summary>
    public double CropShare { get; init; } = 0.6;

    /// <summary>Share of the history shuffled by the reorder augmentation. Default 0.3.</summary>
    public double ReorderShare { get; init; } = 0.3;

    /// <summary>Most recent history items read. Default 200.</summary>
    public int MaxHistory { get; init; } = 200;

    /// <summary>
    /// BERT for the descriptions (with tokenizer); frozen. Null pre-trains a domain BERT on the item texts and the training
    /// descriptions together, so its vocabulary covers every language the descriptions use.
    /// </summary>
    public BertModel? Bert { get; init; }

    /// <summary>The domain BERT pre-trained when <see cref="Bert"/> is null. Default 6 epochs, 4,000 word pieces.</summary>
    public DomainBertOptions DomainBert { get; init; } = new() { Epochs = 6 };

    /// <summary>Clause splitting and polarity cues. Default <see cref="ConceptCues.Default"/>.</summary>
    public ConceptCues? Cues { get; init; }

    /// <summary>
    /// The validation NDCG@10 the filter may cost, as a share of the best measured: θ is the largest, θ⁻ the smallest
    /// candidate whose filtered validation NDCG@10 stays within it and which removes at most
    /// <see cref="MaxPositiveRemoval"/> of the validation positives. Default 0.02.
    /// </summary>
    public double FilterTolerance { get; init; } = 0.02;

    /// <summary>
    /// A fixed steering weight β (the query becomes x_u + β |x_u| Ĉ⁺); null chooses it on validation data from
    /// {0, 0.1, 0.2, 0.35, 0.5, 0.75, 1} (0 without validation).
    /// </summary>
    public float? SteeringWeight { get; init; }

    /// <summary>
    /// The largest share of validation positives the filter may remove when θ and θ⁻ are chosen (the filter is meant to
    /// honour the description, not to guess). Default 0.1.
    /// </summary>
    public double MaxPositiveRemoval { get; init; } = 0.1;

    /// <summary>A fixed θ (cosine); null chooses it on validation data (−∞ without validation: no positive filter).</summary>
    public float? PositiveThreshold { get; init; }

    /// <summary>A fixed θ⁻ (cosine); null chooses it on validation data (0.5 without validation).</summary>
    public float? NegativeThreshold { get; init; }

    /// <summary>Seed. Default 1.</summary>
    public ulong Seed { get; init; } = 1;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(InterestEpochs, nameof(InterestEpochs));
        ArgumentOutOfRangeException.ThrowIfNegative(AlignmentEpochs, nameof(AlignmentEpochs));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Patience, nameof(Patience));
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchSize, 2, nameof(BatchSize));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(LearningRate, nameof(LearningRate));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Temperature, nameof(Temperature));
        ArgumentOutOfRangeException.ThrowIfNegative(ItemLossWeight, nameof(ItemLossWeight));
        ArgumentOutOfRangeException.ThrowIfNegative(ItemTextWeight, nameof(ItemTextWeight));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxHistory, nameof(MaxHistory));
        if (MaskShare is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(MaskShare), MaskShare, "Must be in [0, 1).");
        if (CropShare is <= 0 or > 1) throw new ArgumentOutOfRangeException(nameof(CropShare), CropShare, "Must be in (0, 1].");
        if (ReorderShare is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(ReorderShare), ReorderShare, "Must be in [0, 1].");
        if (MaxPositiveRemoval is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(MaxPositiveRemoval), MaxPositiveRemoval, "Must be in [0, 1].");
        if (FilterTolerance is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(FilterTolerance), FilterTolerance, "Must be in [0, 1).");
    }
}

/// <summary>What <see cref="ConceptTrainer"/> measured.</summary>
/// <param name="InterestEpochs">Epochs of the self-supervised interest phase run.</param>
/// <param name="InterestValidationNdcg">Best validation NDCG@10 of ranking by sim(I_u, P_i) (NaN without validation).</param>
/// <param name="AlignmentEpochs">Epochs of the alignment phase run.</param>
/// <param name="DescriptionValidationNdcg">Best validation NDCG@10 of ranking by the description alone (C⁺).</param>
/// <param name="SteeringWeight">β in use.</param>
/// <param name="ColdSteeringWeight">β of text cold start in use.</param>
/// <param name="ColdValidationNdcg">Validation NDCG@10 of serving the described users from their description alone at that β.</param>
/// <param name="PositiveThreshold">θ in use.</param>
/// <param name="NegativeThreshold">θ⁻ in use.</param>
/// <param name="UnfilteredValidationNdcg">Validation NDCG@10 of the user vectors without steering or filter (NaN when not calibrated).</param>
/// <param name="FilteredValidationNdcg">The same with steering β and the filter at (θ, θ⁻).</param>
/// <param name="WallTime">Total time, BERT pre-training included.</param>
/// <param name="Bert">The domain BERT's pre-training report, when one was pre-trained.</param>
public sealed record ConceptReport(int InterestEpochs, double InterestValidationNdcg, int AlignmentEpochs, double DescriptionValidationNdcg,
    float SteeringWeight, float ColdSteeringWeight, double ColdValidationNdcg, float PositiveThreshold, float NegativeThreshold, double UnfilteredValidationNdcg, double FilteredValidationNdcg, TimeSpan WallTime, MlmReport? Bert);

/// <summary>
/// The concept side of a recommender: the <see cref="ConceptEncoder"/> of descriptions, the self-supervised
/// <see cref="InterestEncoder"/>, the item vectors P both live with, and the filter thresholds.
/// </summary>
/// <remarks>Immutable once trained apart from <see cref="PositiveThreshold"/> and <see cref="NegativeThreshold"/>; serving methods are thread-safe.</remarks>
public sealed class ConceptModel
{
    private float[] _normalizedItems; // the rows the filter compares concepts with, unit length
    private Tensor? _itemConcepts;
    private float[] _filterCenter; // subtracted from concepts and item rows before the cosine (the mean item concept, or zeros)

    /// <summary>Assembles a model over <paramref name="items"/> (items, D).</summary>
    public ConceptModel(ConceptEncoder encoder, InterestEncoder interest, Tensor items, float positiveThreshold = float.NegativeInfinity, float negativeThreshold = 0.5f)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(interest);
        ArgumentNullException.ThrowIfNull(items);
        if (items.Rank != 2 || items.Dim(1) != encoder.Dimension || interest.Dimension != encoder.Dimension)
            throw new ArgumentException($"Item vectors {Tensor.ShapeString(items.Shape)}, the concept encoder ({encoder.Dimension}) and the interest encoder ({interest.Dimension}) must share D.");
        Encoder = encoder;
        Interest = interest;
        Items = items;
        interest.Items = items;
        int n = items.Dim(0), d = items.Dim(1);
        _filterCenter = new float[d];
        _normalizedItems = NormalizedRows(items);
        PositiveThreshold = positiveThreshold;
        NegativeThreshold = negativeThreshold;
    }

    /// <summary>The description encoder.</summary>
    public ConceptEncoder Encoder { get; }

    /// <summary>The self-supervised behaviour interest.</summary>
    public InterestEncoder Interest { get; }

    /// <summary>P: the item vectors (items, D), shared with the recommender's index.</summary>
    public Tensor Items { get; }

    /// <summary>
    /// T: each item's own text read by the concept encoder (items, D), or null. When set, the filter compares concepts with
    /// T_i (words with words, in the encoder's space; both centred on the mean item concept μ_T) instead of the item
    /// vectors P_i; steering always uses P.
    /// </summary>
    public Tensor? ItemConcepts
    {
        get => _itemConcepts;
        set
        {
            if (value is not null && (value.Rank != 2 || value.Dim(0) != Items.Dim(0) || value.Dim(1) != Items.Dim(1)))
                throw new ArgumentException($"Item concepts must be {Tensor.ShapeString(Items.Shape)}; got {Tensor.ShapeString(value.Shape)}.", nameof(value));
            _itemConcepts = value;
            // Encoder outputs share a common direction (cosines of unrelated texts crowd near 0.7); centring on the mean
            // item concept spreads them, so one threshold means the same for every description.
            _filterCenter = value is null ? new float[Items.Dim(1)] : MeanRow(value);
            _normalizedItems = NormalizedRows(value ?? Items, _filterCenter);
        }
    }

    private static float[] NormalizedRows(Tensor t, float[]? center = null)
    {
        int n = t.Dim(0), d = t.Dim(1);
        var r = new float[n * d];
        var row = new float[d];
        for (int i = 0; i < n; i++)
        {
            t.Data.Slice(i * d, d).CopyTo(row);
            if (center is not null) TensorPrimitives.Subtract(row, center, row);
            ConceptFilter.Normalized(row).CopyTo(r, i * d);
        }
        return r;
    }

    private static float[] MeanRow(Tensor t)
    {
        int n = t.Dim(0), d = t.Dim(1);
        var mean = new float[d];
        for (int i = 0; i < n; i++) TensorPrimitives.Add(mean, t.Data.Slice(i * d, d), mean);
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

    /// <summary>θ⁻: items with sim(C⁻, P_i) at or above it are filtered out (+∞: no negative filter).</summary>
    public float NegativeThreshold { get; set; }

    /// <summary>β: how far a description steers a user's query towards its positive concept (0: not at all).</summary>
    public float SteeringWeight { get; set; }

    /// <summary>
    /// The query x_u + β |x_u| Ĉ⁺: towards what the description asks for (x_u itself when β is 0 or there is no positive
    /// side). What it rejects is left to the filter: steering away from C⁻ cost validation accuracy in our measurements.
    /// </summary>
    public float[] Steer(ReadOnlySpan<float> user, ConceptVector concept, float? steeringWeight = null)
    {
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
        ArgumentNullException.ThrowIfNull(concept);
        float beta = coldSteeringWeight ?? ColdSteeringWeight;
        if (concept.Positive is null) return emptyUser.ToArray();
        return float.IsPositiveInfinity(beta) || emptyUser.IsEmpty ? concept.Positive.ToArray() : Steer(emptyUser, concept, beta);
    }

    /// <summary>Splits and encodes a description.</summary>
    public ConceptVector Describe(string description, bool handleNegation = true) => Encoder.Describe(description, handleNegation);

    /// <summary>The ranker filter for a described concept, at the model's thresholds unless given.</summary>
    public ConceptFilter Filter(ConceptVector concept, float? positiveThreshold = null, float? negativeThreshold = null)
    {
        ArgumentNullException.ThrowIfNull(concept);
        return new ConceptFilter(_normalizedItems, Items.Dim(1), Centered(concept.Positive), Centered(concept.Negative),
            positiveThreshold ?? PositiveThreshold, negativeThreshold ?? NegativeThreshold);
    }

    /// <summary>I_u of a history (item indices, most recent first), in eval mode without gradients.</summary>
    public float[] InterestOf(int[] history)
    {
        ArgumentNullException.ThrowIfNull(history);
        using (Interest.EvalScope())
        using (GradMode.NoGrad()) return Interest.Forward(Items, [history]).ToArray();
    }

    /// <summary>cos(v − μ_T, T_i − μ_T), or cos(v, P_i) without <see cref="ItemConcepts"/>: the similarity the filter uses.</summary>
    public float Similarity(ReadOnlySpan<float> vector, int item) =>
        TensorPrimitives.Dot(ConceptFilter.Normalized(Centered(vector.ToArray())), _normalizedItems.AsSpan(item * Items.Dim(1), Items.Dim(1)));

    // ------------------------------------------------------------------ persistence

    private sealed record Manifest(string Format, int Version, int Dimension, int MaxLength, int MaxHistory, float SteeringWeight, float ColdSteeringWeight, float PositiveThreshold, float NegativeThreshold, ConceptCues Cues);

    /// <summary>Writes concept.json, concept.safetensors (both encoders) and bert/ into <paramref name="folder"/>, atomically.</summary>
    public void Save(string folder)
    {
        var manifest = new Manifest("hierrec-concepts", 1, Encoder.Dimension, Encoder.MaxLength, Interest.MaxHistory, SteeringWeight, ColdSteeringWeight, PositiveThreshold, NegativeThreshold, Encoder.Parser.Cues);
        var bytes = ManifestJson.Serialize(manifest);
        AtomicFile.WriteDirectory(folder, dir =>
        {
            AtomicFile.Write(Path.Combine(dir, "concept.json"), s => s.Write(bytes));
            SafeTensors.Save(Path.Combine(dir, "concept.safetensors"),
                Encoder.StateDict().Select(p => new KeyValuePair<string, Tensor>("concept." + p.Key, p.Value))
                    .Concat(Interest.StateDict().Select(p => new KeyValuePair<string, Tensor>("interest." + p.Key, p.Value)))
                    .Concat(ItemConcepts is null ? [] : [new KeyValuePair<string, Tensor>("item_concepts", ItemConcepts)]));
            Encoder.Bert.Save(Path.Combine(dir, "bert"));
        });
    }

    /// <summary>Loads a folder written by <see cref="Save"/>, over the given item vectors.</summary>
    /// <exception cref="InvalidDataException">The folder is not a concept model or disagrees with <paramref name="items"/> (named).</exception>
    public static ConceptModel Load(string folder, Tensor items)
    {
        ArgumentNullException.ThrowIfNull(items);
        var manifest = ManifestJson.Read<Manifest>(folder, "concept.json", "ConceptModel", "hierrec-concepts", 1, m => (m.Format, m.Version));
        string path = Path.Combine(folder, "concept.json");
        if (items.Rank != 2 || items.Dim(1) != manifest.Dimension)
            throw new InvalidDataException($"{path}: concepts of width {manifest.Dimension} cannot serve item vectors {Tensor.ShapeString(items.Shape)}.");
        var bert = BertModel.Load(Path.Combine(folder, "bert"), new BertLoadOptions { AllowMissingHeads = true });
        bert.ApplyFineTuning(BertFineTuning.Frozen);
        var rng = new Rng(0);
        var encoder = new ConceptEncoder(bert, manifest.Dimension, rng, manifest.MaxLength, new DescriptionParser(manifest.Cues));
        var interest = new InterestEncoder(manifest.Dimension, manifest.MaxHistory, rng);
        string weights = Path.Combine(folder, "concept.safetensors");
        var tensors = SafeTensors.Load(weights).Tensors;
        encoder.LoadParameters(Strip(tensors, "concept."), source: weights);
        interest.LoadParameters(Strip(tensors, "interest."), source: weights);
        encoder.Eval();
        interest.Eval();
        return new ConceptModel(encoder, interest, items, manifest.PositiveThreshold, manifest.NegativeThreshold) { SteeringWeight = manifest.SteeringWeight, ColdSteeringWeight = manifest.ColdSteeringWeight,
            ItemConcepts = tensors.TryGetValue("item_concepts", out var t) ? t : null };
    }

    private static Dictionary<string, Tensor> Strip(IReadOnlyDictionary<string, Tensor> tensors, string prefix) =>
        tensors.Where(p => p.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(p => p.Key[prefix.Length..], p => p.Value);
}

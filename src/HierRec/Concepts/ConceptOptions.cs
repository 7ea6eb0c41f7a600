using HierRec.Text;

namespace HierRec.Concepts;

/// <summary>Training and filtering of concepts. Defaults are documented per property.</summary>
public sealed record ConceptOptions
{
    /// <summary>Most epochs of the self-supervised interest objective. Default 30.</summary>
    public int InterestEpochs { get; init; } = 30;

    /// <summary>
    /// Most epochs of the interest's refinement for <c>RecommendByInterest</c>, after the alignment has read I_u: training
    /// goes on with the views' agreement on a projection head, kept only where validation NDCG@10 rises. 0: off. Default 30.
    /// </summary>
    public int InterestRefinementEpochs { get; init; } = 30;

    /// <summary>Most epochs of the description-to-interest alignment. Default 40.</summary>
    public int AlignmentEpochs { get; init; } = 40;

    /// <summary>Epochs without a better validation NDCG@10 before a phase stops. Default 5.</summary>
    public int Patience { get; init; } = 5;

    /// <summary>Epochs each phase always runs before early stopping may end it (capped at the phase's epochs). Default 5.</summary>
    public int MinEpochs { get; init; } = 5;

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
    /// descriptions together, so its vocabulary covers every language the descriptions use. Disposing the concept model
    /// (or the recommender that holds it) disposes this BERT too.
    /// </summary>
    public BertModel? Bert { get; init; }

    /// <summary>The domain BERT pre-trained when <see cref="Bert"/> is null. Default 6 epochs, 4,000 word pieces.</summary>
    public DomainBertOptions DomainBert { get; init; } = new() { Epochs = 6 };

    /// <summary>Clause splitting and polarity cues. Default <see cref="ConceptCues.Default"/>.</summary>
    public ConceptCues? Cues { get; init; }

    /// <summary>
    /// The validation NDCG@10 the negative filter may cost, as a share of the best measured: θ⁻ is the smallest
    /// candidate whose filtered validation NDCG@10 stays within it and which removes at most
    /// <see cref="MaxPositiveRemoval"/> of the validation positives (a rejection is the user's own word, worth a little
    /// accuracy). Default 0.02.
    /// </summary>
    public double FilterTolerance { get; init; } = 0.02;

    /// <summary>
    /// The same for the positive filter: θ is the largest candidate within it of the best. Default 0: the positive
    /// filter removes what a description did not name, which steering already ranks lower, so by default it is on only
    /// at a θ that costs no validation NDCG@10 (often off: θ = −∞).
    /// </summary>
    public double PositiveFilterTolerance { get; init; }

    /// <summary>
    /// A fixed steering weight β (the query becomes x_u + β |x_u| Ĉ⁺); null chooses it on validation data from
    /// {0, 0.1, 0.2, 0.35, 0.5, 0.75, 1} (0 without validation).
    /// </summary>
    public float? SteeringWeight { get; init; }

    /// <summary>
    /// A fixed word-steering weight β_w (<see cref="ConceptModel.WordSteeringWeight"/>: items whose text names a word of
    /// the description gain β_w standard deviations of the user's scores); null chooses it on validation data as the
    /// largest of {0, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2} whose NDCG@10 is no lower than without a description (0 without validation).
    /// </summary>
    public float? WordSteeringWeight { get; init; }

    /// <summary>
    /// k of text cold start's like-minded users (<see cref="ConceptModel.ColdNeighbours"/>: a newcomer known only by a
    /// description is served what the k training users with the most similar descriptions chose). Null chooses it on
    /// validation data, with the cold-start word steering: the best of {25, 50, 100, 200} (at most the described users)
    /// when it serves the stand-in newcomers better than steering x_∅ towards C⁺ does, else 0 (0 without validation).
    /// 0: off; a positive k is used as given.
    /// </summary>
    public int? ColdNeighbours { get; init; }

    /// <summary>
    /// The largest share of validation positives the filter may remove when θ and θ⁻ are chosen (the filter is meant to
    /// honour the description, not to guess). Default 0.1.
    /// </summary>
    public double MaxPositiveRemoval { get; init; } = 0.1;

    /// <summary>A fixed θ (cosine); null chooses it on validation data (−∞ without validation: no positive filter).</summary>
    public float? PositiveThreshold { get; init; }

    /// <summary>A fixed θ⁻ (cosine); null chooses it on validation data (0.5 without validation).</summary>
    public float? NegativeThreshold { get; init; }

    /// <summary>
    /// What a rejection means when calibration switches the negative similarity filter off (θ⁻ = +∞, because it cost
    /// validation NDCG): the lexical guard still removes the items whose text names the rejected words, and a rejection
    /// whose words no item text names (a Chinese description of an English catalogue in words beyond <see cref="ConceptCues.Glossary"/>, or a catalogue without texts)
    /// falls back to this quantile of sim(C⁻, P_i) over the validation descriptions, so a "dislikes romance" still
    /// removes the items most like romance (the top 10 % at 0.9). The report says when it applied
    /// (<see cref="ConceptReport.NegativeFilterFallback"/>). Null: no fallback (reported as well). Default 0.9.
    /// </summary>
    public double? NegativeFallbackQuantile { get; init; } = 0.9;

    /// <summary>Seed. Default 1.</summary>
    public ulong Seed { get; init; } = 1;

    internal void Validate()
    {
        // NaN passes every comparison below, so it is refused first, by name.
        foreach (var (name, value) in new (string, double)[]
        {
            (nameof(LearningRate), LearningRate), (nameof(Temperature), Temperature), (nameof(ItemLossWeight), ItemLossWeight), (nameof(ItemTextWeight), ItemTextWeight),
            (nameof(MaskShare), MaskShare), (nameof(CropShare), CropShare), (nameof(ReorderShare), ReorderShare), (nameof(MaxPositiveRemoval), MaxPositiveRemoval),
            (nameof(FilterTolerance), FilterTolerance), (nameof(PositiveFilterTolerance), PositiveFilterTolerance),
            (nameof(SteeringWeight), SteeringWeight ?? 0), (nameof(WordSteeringWeight), WordSteeringWeight ?? 0),
            (nameof(PositiveThreshold), PositiveThreshold ?? 0), (nameof(NegativeThreshold), NegativeThreshold ?? 0),
        })
            if (double.IsNaN(value)) throw new ArgumentOutOfRangeException(name, value, $"ConceptOptions.{name} is NaN.");
        ArgumentOutOfRangeException.ThrowIfNegative(InterestEpochs, nameof(InterestEpochs));
        ArgumentOutOfRangeException.ThrowIfNegative(InterestRefinementEpochs, nameof(InterestRefinementEpochs));
        ArgumentOutOfRangeException.ThrowIfNegative(AlignmentEpochs, nameof(AlignmentEpochs));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Patience, nameof(Patience));
        ArgumentOutOfRangeException.ThrowIfNegative(MinEpochs, nameof(MinEpochs));
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchSize, 2, nameof(BatchSize));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(LearningRate, nameof(LearningRate));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Temperature, nameof(Temperature));
        ArgumentOutOfRangeException.ThrowIfNegative(ItemLossWeight, nameof(ItemLossWeight));
        ArgumentOutOfRangeException.ThrowIfNegative(ItemTextWeight, nameof(ItemTextWeight));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxHistory, nameof(MaxHistory));
        if (ColdNeighbours is int k && k is < 0 or > 1_000_000) throw new ArgumentOutOfRangeException(nameof(ColdNeighbours), k, "ConceptOptions.ColdNeighbours must be in [0, 1000000] (0: off), or null (chosen on validation).");
        if (MaskShare is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(MaskShare), MaskShare, "Must be in [0, 1).");
        if (CropShare is <= 0 or > 1) throw new ArgumentOutOfRangeException(nameof(CropShare), CropShare, "Must be in (0, 1].");
        if (ReorderShare is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(ReorderShare), ReorderShare, "Must be in [0, 1].");
        if (MaxPositiveRemoval is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(MaxPositiveRemoval), MaxPositiveRemoval, "Must be in [0, 1].");
        if (FilterTolerance is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(FilterTolerance), FilterTolerance, "Must be in [0, 1).");
        if (PositiveFilterTolerance is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(PositiveFilterTolerance), PositiveFilterTolerance, "Must be in [0, 1).");
        if (NegativeFallbackQuantile is double q && !(q > 0 && q < 1)) throw new ArgumentOutOfRangeException(nameof(NegativeFallbackQuantile), q, "ConceptOptions.NegativeFallbackQuantile must be in (0, 1), or null.");
    }
}

using HierRec.Text;
using HierRec.Training;
using static TorchSharp.torch;

namespace HierRec;

/// <summary>Everything <see cref="HierarchicalRecommender.Fit"/> needs besides data.</summary>
public sealed record RecommenderOptions
{
    /// <summary>The model's architecture.</summary>
    public HierarchicalOptions Model { get; init; } = new();

    /// <summary>Training.</summary>
    public HierarchicalTrainingOptions Training { get; init; } = new();

    /// <summary>
    /// The domain BERT pre-trained on the item texts when no <see cref="Bert"/> is given and the model uses text. Default
    /// options of <see cref="DomainBertOptions"/>.
    /// </summary>
    public DomainBertOptions DomainBert { get; init; } = new();

    /// <summary>
    /// An existing BERT (with tokenizer) for the item texts, e.g. <c>BertModel.Load(folder)</c>; null pre-trains one. Unless
    /// <see cref="BertMode"/> is Frozen, this model is fine-tuned in place (and LoRA adds adapters to it). It becomes part of
    /// the fitted model: disposing the recommender disposes it too, so do not dispose a recommender whose BERT other fits share.
    /// A fit that fails or is cancelled leaves it alive and the caller's.
    /// </summary>
    public BertModel? Bert { get; init; }

    /// <summary>
    /// How BERT trains with the recommender: <see cref="BertFineTuning.Frozen"/> (default: item text vectors computed
    /// once), FreezeBottom(n) (the layers above n train, the rest is cached per item), Lora or Full (all of BERT runs every
    /// step, which costs a BERT forward and backward over the whole catalogue per step).
    /// </summary>
    public BertFineTuning BertMode { get; init; } = BertFineTuning.Frozen;

    /// <summary>Pooling of BERT token vectors into item text vectors. Default mean.</summary>
    public PoolingKind Pooling { get; init; } = PoolingKind.Mean;

    /// <summary>
    /// The collaborative (item-to-item, factorised EASE) dimension fused with the hierarchical model's scores, its λ and
    /// weight chosen on validation. Default on.
    /// </summary>
    public Fusion.CollaborativeOptions Collaborative { get; init; } = new();

    /// <summary>
    /// The sequential dimension (a SASRec model over the user's items in time order) fused with the other two, its weight
    /// chosen on validation. Default on where the training data has a time order; it trains SASRec during Fit (80–155 s
    /// on MovieLens-100K under leave-one-out, ~30 s on its random split, two cores), so turn it off where the order of
    /// interactions is known to carry no signal.
    /// </summary>
    public Fusion.SequentialDimensionOptions Sequential { get; init; } = new();

    /// <summary>
    /// The friends' items dimension (what a known user's friends chose, added to the served scores), its weight chosen on
    /// validation. Default on where the training data has social edges.
    /// </summary>
    public Fusion.FriendItemsOptions FriendItems { get; init; } = new();

    /// <summary>Seed of initialisation. Default 1.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>
    /// Where the model trains and serves: CPU (default, null) or a CUDA device (<c>torch.CUDA</c>) when the application
    /// references a TorchSharp CUDA bundle instead of TorchSharp-cpu. The ranker always serves from CPU memory.
    /// </summary>
    public Device? Device { get; init; }

    /// <summary>Checks these options and the nested ones (called by Fit).</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it and its range.</exception>
    public void Validate()
    {
        OptionChecks.NotNull("RecommenderOptions.Model", Model);
        OptionChecks.NotNull("RecommenderOptions.Training", Training);
        OptionChecks.NotNull("RecommenderOptions.DomainBert", DomainBert);
        Model.Validate();
        Training.Validate();
        DomainBert.Validate();
        OptionChecks.NotNull("RecommenderOptions.Collaborative", Collaborative);
        Collaborative.Validate();
        OptionChecks.NotNull("RecommenderOptions.Sequential", Sequential);
        Sequential.Validate();
        OptionChecks.NotNull("RecommenderOptions.FriendItems", FriendItems);
        FriendItems.Validate();
        OptionChecks.NotNull("RecommenderOptions.BertMode", BertMode);
        OptionChecks.Defined("RecommenderOptions.Pooling", Pooling);
    }
}

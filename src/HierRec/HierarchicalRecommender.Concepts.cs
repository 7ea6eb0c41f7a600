using HierRec.Concepts;
using HierRec.Data;
using HierRec.Items;
using HierRec.Ranking;
using HierRec.Diagnostics;

namespace HierRec;

/// <summary>Concepts: the interest-description model attached to the recommender, and the serving paths it steers.</summary>
public sealed partial class HierarchicalRecommender
{
    /// <summary>
    /// The concept model being served (descriptions, self-supervised interest, filter), after <see cref="FitConcepts"/>
    /// or a load; else null. A later <see cref="FitConcepts"/> replaces it and frees it once the requests using it have
    /// ended, so code that keeps using it across a refit holds it with <see cref="HoldConcepts"/>.
    /// </summary>
    public ConceptModel? Concepts => Volatile.Read(ref _concepts)?.Value;

    /// <summary>The served concept model, shared with the requests that hold it (null: none fitted).</summary>
    private RefCounted<ConceptModel>? _concepts;

    /// <summary>Orders a concept model's publication against <see cref="Dispose()"/>.</summary>
    private readonly Lock _conceptSwap = new();

    /// <summary>
    /// A hold on the concept model being served: until it is disposed, a <see cref="FitConcepts"/> that replaces the
    /// model leaves it alive. Every request that reads the concept model holds it this way, so one request reads one
    /// model, and a replaced model is freed when the last request using it ends.
    /// </summary>
    /// <exception cref="InvalidOperationException">No concept model has been fitted or loaded.</exception>
    public ConceptHold HoldConcepts() => TryHoldConcepts() ?? throw new InvalidOperationException("No concept model: call FitConcepts (or load a recommender saved with one) first.");

    /// <summary>As <see cref="HoldConcepts"/>, or null without a concept model.</summary>
    private ConceptHold? TryHoldConcepts()
    {
        while (true)
        {
            ThrowIfDisposed();
            var shared = Volatile.Read(ref _concepts);
            if (shared is null) return null;
            if (shared.TryHold())
            {
                var hold = new ConceptHold(shared);
                AfterConceptHold?.Invoke(); // tests only: a swap at the worst moment
                return hold;
            }
            // Released by its owner between the read and the hold: a refit published a newer one (or Dispose ran).
        }
    }

    /// <summary>
    /// Trains the concept model on the known users' descriptions (several phrasings each allowed) and attaches it:
    /// afterwards descriptions filter and steer <see cref="Recommend(string, string, int)"/>, serve users with no history
    /// (<see cref="RecommendFromDescription"/>) and appear in explanations. Users without a description are skipped.
    /// Fitting again replaces the concept model; the replaced one's native memory is freed at once, or when the last
    /// request still using it ends (<see cref="HoldConcepts"/>). A cancelled or failed fit frees what it built and
    /// leaves the served concept model in place.
    /// </summary>
    /// <param name="train">The training split the recommender was fitted on (same ids).</param>
    /// <param name="validation">Validation split for early stopping and the thresholds, or null.</param>
    /// <param name="descriptions">Per user id, one or more descriptions; unknown user ids are an error.</param>
    /// <param name="options">Training options.</param>
    /// <param name="progress">Progress.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    public ConceptReport FitConcepts(Dataset train, Dataset? validation, IReadOnlyDictionary<string, IReadOnlyList<string>> descriptions,
        ConceptOptions? options = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(descriptions);
        if (train.ItemCount != _items.Count || train.UserCount != _users.Count)
            throw new ArgumentException($"{train.Name} has {train.UserCount} users and {train.ItemCount} items; the recommender was fitted on {_users.Count} and {_items.Count}.", nameof(train));
        var perUser = new IReadOnlyList<string>?[_users.Count];
        foreach (var (id, list) in descriptions)
        {
            perUser[_users.TryGetDense(id, out int u) ? u : throw new KeyNotFoundException($"Description for unknown user '{id}'.")] = list;
            for (int i = 0; i < (list?.Count ?? 0); i++)
            {
                if (list![i] is not { } text) throw new ArgumentException($"descriptions[\"{id}\"][{i}] is null.", nameof(descriptions));
                if (text.Length > DescriptionParser.MaxDescriptionLength)
                    throw new ArgumentException($"descriptions[\"{id}\"][{i}] is {text.Length:N0} characters long; the limit is {DescriptionParser.MaxDescriptionLength:N0} (DescriptionParser.MaxDescriptionLength).", nameof(descriptions));
            }
        }
        int[][]? validationItems = null;
        if (validation is not null)
        {
            var lists = Enumerable.Range(0, _users.Count).Select(_ => new List<int>()).ToArray();
            foreach (var x in validation.Interactions) lists[x.User].Add(x.Item);
            validationItems = lists.Select(l => l.ToArray()).ToArray();
        }
        var data = new ConceptTrainingData(_context.Histories, perUser, _itemVectors, ItemTexts.FromFeatures(train.ItemFeatures), validationItems, UserVectors, EmptyUserVector());
        var model = ConceptTrainer.Fit(data, options ?? new ConceptOptions { MaxHistory = _model.Options.MaxHistory }, out var report, progress, cancellationToken);
        PublishConcepts(model);
        return report;
    }

    /// <summary>Runs after every hold <see cref="TryHoldConcepts"/> takes: the tests' way to swap the model mid-request.</summary>
    internal Action? AfterConceptHold { get; set; }

    /// <summary>Serves <paramref name="model"/> from now on; the replaced one is freed now, or when the last request holding it ends.</summary>
    internal void PublishConcepts(ConceptModel model)
    {
        lock (_conceptSwap)
        {
            if (IsDisposed)
            {
                model.Dispose();
                ThrowIfDisposed();
            }
            var replaced = _concepts;
            Volatile.Write(ref _concepts, new RefCounted<ConceptModel>(model));
            replaced?.ReleaseOwner(); // freed now, or when the last request holding it ends
        }
    }

    /// <summary>Splits and encodes a description (needs <see cref="Concepts"/>).</summary>
    public ConceptVector Describe(string description)
    {
        using var hold = HoldConcepts();
        return hold.Model.Describe(description);
    }

    /// <summary>
    /// The top <paramref name="k"/> items for a known user, steered towards and filtered by <paramref name="description"/>
    /// (items the user has seen excluded): the query moves towards the description's concept (β), the items whose text
    /// names its words are lifted (word steering, β_w), and what it rejects is filtered out. Fewer than k come back when
    /// the filter leaves fewer.
    /// </summary>
    public IReadOnlyList<Recommendation> Recommend(string userId, string description, int k = 10)
    {
        ArgumentNullException.ThrowIfNull(description);
        using var hold = HoldConcepts();
        return Recommend(userId, hold.Model, hold.Model.Describe(description), k, DescriptionUse.All);
    }

    /// <summary>
    /// As <see cref="Recommend(string, string, int)"/> for a description already encoded (<see cref="Describe"/>, or
    /// <see cref="ConceptModel.Describe"/> without negation handling), using only the parts <paramref name="use"/> names:
    /// what each of concept steering, word steering and the filter does is measurable on its own.
    /// </summary>
    public IReadOnlyList<Recommendation> Recommend(string userId, ConceptVector concept, int k = 10, DescriptionUse use = DescriptionUse.All)
    {
        ArgumentNullException.ThrowIfNull(concept);
        using var hold = HoldConcepts();
        return Recommend(userId, hold.Model, concept, k, use);
    }

    private Recommendation[] Recommend(string userId, ConceptModel concepts, ConceptVector concept, int k, DescriptionUse use)
    {
        int u = KnownUser(userId, "use RecommendFromDescription for users outside the training data");
        var x = UserVectors([u])[0];
        var query = use.HasFlag(DescriptionUse.Steer) ? concepts.Steer(x, concept) : x;
        return RankQuery(query, _context.Histories[u], k, use.HasFlag(DescriptionUse.Filter) ? concepts.Filter(concept) : null, spreadOf: x, knownUser: u,
            concepts: concepts, concept: concept, wordWeight: use.HasFlag(DescriptionUse.Words) ? concepts.WordSteeringWeight : 0);
    }

    /// <summary>
    /// The top <paramref name="k"/> items for a known user ranked by the self-supervised behaviour interest,
    /// S_ui = ⟨I_u, P_i⟩, instead of the hierarchical x_u (and without the collaborative dimension); steered and filtered
    /// by <paramref name="description"/> when one is given. Seen items are excluded.
    /// </summary>
    public IReadOnlyList<Recommendation> RecommendByInterest(string userId, string? description = null, int k = 10)
    {
        int u = KnownUser(userId, null);
        using var hold = HoldConcepts();
        var concepts = hold.Model;
        var interest = concepts.InterestOf(_context.Histories[u]);
        if (description is null) return RankQuery(interest, _context.Histories[u], k, null, fused: false);
        var concept = concepts.Describe(description);
        return RankQuery(concepts.Steer(interest, concept), _context.Histories[u], k, concepts.Filter(concept), fused: false, concepts: concepts, concept: concept, wordWeight: concepts.WordSteeringWeight);
    }

    /// <summary>
    /// Text cold start: the top <paramref name="k"/> items for someone known only by a description. With like-minded
    /// users (<see cref="ConceptModel.ColdNeighbours"/> above 0, chosen on validation by <see cref="FitConcepts"/>): what
    /// the training users whose descriptions are most like this one chose, weighted by that likeness
    /// (<see cref="ConceptModel.NeighbourScores"/>; the score is that weighted count, with no serving transform, and
    /// <see cref="Recommendation.Probability"/> is the item's share of those scores over the whole catalogue: the chance
    /// that one of the like-minded users' choices, drawn in proportion to their likeness, is this item).
    /// Otherwise, or for a description with no positive side: the vector of a user with nothing known, steered towards C⁺
    /// (<see cref="ConceptModel.ColdSteeringWeight"/>). Either way the items its words name are lifted
    /// (<see cref="ConceptModel.ColdWordSteeringWeight"/>) and the concept filter applies.
    /// </summary>
    public IReadOnlyList<Recommendation> RecommendFromDescription(string description, int k = 10)
    {
        ArgumentNullException.ThrowIfNull(description);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        using var hold = HoldConcepts();
        var concepts = hold.Model;
        var concept = concepts.Describe(description);
        if (!UsesLikeMinded(concepts, concept))
            return RankQuery(concepts.SteerNewUser(EmptyUserVector(), concept), [], k, concepts.Filter(concept), concepts: concepts, concept: concept, wordWeight: concepts.ColdWordSteeringWeight);
        var scores = ColdScores(concepts, concept, out _, out _, likeMinded: true); // the scores ExplainFromDescription explains
        var filter = concepts.Filter(concept);
        var ranked = ScoreStatistics.Top(scores, k, new RankOptions { Filter = filter.IsActive ? filter : null });
        HierRecTelemetry.Scored("rank", scores.Length);
        double total = LikeMindedTotal(scores);
        return ranked.Select(r => new Recommendation(_items.ToExternal(r.ItemIndex), r.ItemIndex, r.Score, LikeMindedShare(r.Score, total))).ToArray();
    }
}

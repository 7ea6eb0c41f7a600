using HierRec.Concepts;
using HierRec.Data;
using HierRec.Items;
using HierRec.Ranking;
using HierRec.Diagnostics;

namespace HierRec;

/// <summary>Concepts: the interest-description model attached to the recommender, and the serving paths it steers.</summary>
public sealed partial class HierarchicalRecommender
{
    /// <summary>The concept model (descriptions, self-supervised interest, filter), after <see cref="FitConcepts"/> or a load; else null.</summary>
    public ConceptModel? Concepts { get; private set; }

    /// <summary>Concept models a refit replaced: requests may still hold them, so they are disposed with the recommender.</summary>
    private readonly List<ConceptModel> _retiredConcepts = [];

    private ConceptModel RequireConcepts() => IsDisposed ? throw new ObjectDisposedException(nameof(HierarchicalRecommender)) : Concepts ?? throw new InvalidOperationException("No concept model: call FitConcepts (or load a recommender saved with one) first.");

    /// <summary>
    /// Trains the concept model on the known users' descriptions (several phrasings each allowed) and attaches it:
    /// afterwards descriptions filter and steer <see cref="Recommend(string, string, int)"/>, serve users with no history
    /// (<see cref="RecommendFromDescription"/>) and appear in explanations. Users without a description are skipped.
    /// Fitting again replaces the concept model; the replaced one's native memory is freed when the recommender is
    /// disposed (requests running meanwhile may still use it). A cancelled or failed fit frees what it built and leaves
    /// the served concept model in place.
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
        lock (_retiredConcepts)
        {
            if (IsDisposed)
            {
                model.Dispose();
                ThrowIfDisposed();
            }
            // A request may still be using the replaced model, so it is freed with the recommender, not now.
            if (Concepts is { } replaced) _retiredConcepts.Add(replaced);
            Concepts = model;
        }
        return report;
    }

    /// <summary>Splits and encodes a description (needs <see cref="Concepts"/>).</summary>
    public ConceptVector Describe(string description) => RequireConcepts().Describe(description);

    /// <summary>
    /// The top <paramref name="k"/> items for a known user, steered towards and filtered by <paramref name="description"/>
    /// (items the user has seen excluded): the query moves towards the description's concept (β), the items whose text
    /// names its words are lifted (word steering, β_w), and what it rejects is filtered out. Fewer than k come back when
    /// the filter leaves fewer.
    /// </summary>
    public IReadOnlyList<Recommendation> Recommend(string userId, string description, int k = 10)
    {
        ArgumentNullException.ThrowIfNull(description);
        return Recommend(userId, RequireConcepts().Describe(description), k);
    }

    /// <summary>
    /// As <see cref="Recommend(string, string, int)"/> for a description already encoded (<see cref="Describe"/>, or
    /// <see cref="ConceptModel.Describe"/> without negation handling), using only the parts <paramref name="use"/> names:
    /// what each of concept steering, word steering and the filter does is measurable on its own.
    /// </summary>
    public IReadOnlyList<Recommendation> Recommend(string userId, ConceptVector concept, int k = 10, DescriptionUse use = DescriptionUse.All)
    {
        ArgumentNullException.ThrowIfNull(concept);
        int u = KnownUser(userId, "use RecommendFromDescription for users outside the training data");
        var concepts = RequireConcepts();
        var x = UserVectors([u])[0];
        var query = use.HasFlag(DescriptionUse.Steer) ? concepts.Steer(x, concept) : x;
        return RankQuery(query, _context.Histories[u], k, use.HasFlag(DescriptionUse.Filter) ? concepts.Filter(concept) : null, spreadOf: x, knownUser: u,
            concept: concept, wordWeight: use.HasFlag(DescriptionUse.Words) ? concepts.WordSteeringWeight : 0);
    }

    /// <summary>
    /// The top <paramref name="k"/> items for a known user ranked by the self-supervised behaviour interest,
    /// S_ui = ⟨I_u, P_i⟩, instead of the hierarchical x_u (and without the collaborative dimension); steered and filtered
    /// by <paramref name="description"/> when one is given. Seen items are excluded.
    /// </summary>
    public IReadOnlyList<Recommendation> RecommendByInterest(string userId, string? description = null, int k = 10)
    {
        int u = KnownUser(userId, null);
        var concepts = RequireConcepts();
        var interest = concepts.InterestOf(_context.Histories[u]);
        if (description is null) return RankQuery(interest, _context.Histories[u], k, null, fused: false);
        var concept = concepts.Describe(description);
        return RankQuery(concepts.Steer(interest, concept), _context.Histories[u], k, concepts.Filter(concept), fused: false, concept: concept, wordWeight: concepts.WordSteeringWeight);
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
        var concepts = RequireConcepts();
        var concept = concepts.Describe(description);
        if (!UsesLikeMinded(concept))
            return RankQuery(concepts.SteerNewUser(EmptyUserVector(), concept), [], k, concepts.Filter(concept), concept: concept, wordWeight: concepts.ColdWordSteeringWeight);
        var scores = ColdScores(concept, out _, out _, likeMinded: true); // the scores ExplainFromDescription explains
        var filter = concepts.Filter(concept);
        var ranked = ScoreStatistics.Top(scores, k, new RankOptions { Filter = filter.IsActive ? filter : null });
        HierRecTelemetry.Scored("rank", scores.Length);
        double total = LikeMindedTotal(scores);
        return ranked.Select(r => new Recommendation(_items.ToExternal(r.ItemIndex), r.ItemIndex, r.Score, LikeMindedShare(r.Score, total))).ToArray();
    }
}

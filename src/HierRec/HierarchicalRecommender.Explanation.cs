using HierRec.Concepts;
using HierRec.Diagnostics;
using HierRec.Explanations;
using HierRec.Users;
using TorchSharp;
using static TorchSharp.torch;

namespace HierRec;

/// <summary>Explanations: score, P(i|u), rank, layer shares and the attributions of layers, history items and friends.</summary>
public sealed partial class HierarchicalRecommender
{
    /// <summary>
    /// Why <paramref name="itemId"/> scores as it does for a known user: score, P(i|u), rank, the layers' shares and
    /// signed attributions, the history items (gradient × input) and friends (leave-one-out) that moved the score, and,
    /// with a <paramref name="description"/>, what the description contributed.
    /// </summary>
    public Explanation Explain(string userId, string itemId, string? description = null)
    {
        int u = KnownUser(userId, null);
        return ExplainBatch(userId, _context.Batch([u]), itemId, description);
    }

    /// <summary>As <see cref="Explain"/> for a known user whose history is <paramref name="history"/> (dynamic serving's observed history).</summary>
    internal Explanation ExplainWithHistory(string userId, int[] history, string itemId)
    {
        int u = KnownUser(userId, null);
        return ExplainBatch(userId, _context.Batch([u]) with { Histories = [history] }, itemId, null, fused: false); // dynamic serving's first stage ranks with the hierarchical vectors
    }

    /// <summary>As <see cref="Explain"/>, for a new user described as in <see cref="RecommendForNewUser"/>.</summary>
    public Explanation ExplainForNewUser(UserProfile profile, IReadOnlyList<string> friendIds, IReadOnlyList<string> recentItemIds, string itemId, string? description = null) =>
        ExplainBatch("(new user)", NewUserBatch(profile, friendIds, recentItemIds, out _), itemId, description);

    /// <summary>
    /// As <see cref="Explain"/> for text cold start: why <see cref="RecommendFromDescription"/> ranks <paramref name="itemId"/>
    /// where it does for someone known only by <paramref name="description"/>. Score, P(i|u) and Rank are those of that
    /// ranking (Rank counts only the items the description's filter keeps; on the like-minded path P(i|u) is the item's
    /// share of the like-minded scores, as <see cref="RecommendFromDescription"/> reports it). Its two signed parts are in
    /// LayerAttributions: "popular", what the vector of a user with nothing known gives the item (x_∅, what everyone
    /// likes; 0 when the cold-start steering ranks by the description alone), and "concept", the rest (steering towards
    /// C⁺ and word steering's lift); they sum to the raw score. When like-minded users serve the description
    /// (<see cref="ConceptModel.ColdNeighbours"/>), the parts are "like-minded", what the users with the most similar
    /// descriptions chose (their weighted count), and "concept", word steering's lift. The description's words carry leave-one-out
    /// attributions: the score minus the score with the word deleted. A text-only newcomer has no user layers, no
    /// history and no friends, so LayerContributions and those lists are empty.
    /// </summary>
    public Explanation ExplainFromDescription(string description, string itemId)
    {
        ArgumentNullException.ThrowIfNull(description);
        ArgumentNullException.ThrowIfNull(itemId);
        using var activity = HierRecTelemetry.ActivitySource.StartActivity("HierRec.Explain");
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            using var hold = HoldConcepts();
            var concepts = hold.Model;
            int item = _items.TryGetDense(itemId, out int di) ? di : throw new KeyNotFoundException($"Unknown item '{itemId}'.");
            var concept = concepts.Describe(description);
            bool likeMinded = UsesLikeMinded(concepts, concept);
            var scores = ColdScores(concepts, concept, out float wordBonus, out var named, likeMinded);
            var serving = _model.Scorer.Serving;
            var filter = concepts.Filter(concept);
            // P(i|u) as RecommendFromDescription reports it: the like-minded scores' share, else the softmax.
            var (rank, catalogueRank, probability) = Placing(scores, item, j => filter.IsActive && !filter.Allows(j), serving.Temperature, share: likeMinded);
            // x_∅'s own part: zero when the query is C⁺ alone (β = +∞), so the parts sum to the score. Like-minded users:
            // their weighted count, the lift aside.
            bool steeredAlone = concept.Positive is not null && float.IsPositiveInfinity(concepts.ColdSteeringWeight);
            double lift = named.Contains(item) ? wordBonus : 0;
            double popular = likeMinded ? scores[item] - lift : steeredAlone ? 0 : ServedWithNothingKnown(EmptyUserVector())[item];
            double conceptPart = scores[item] - popular;
            var words = LeaveOneOutWords(concepts, concept, scores[item], without => ColdScores(concepts, without, out _, out _, likeMinded)[item]);
            var conceptExplanation = new ConceptExplanation(concept.Description, concept.Clauses, concept.PositiveTokens, concept.NegativeTokens,
                concept.Positive is null ? null : concepts.Similarity(concept.Positive, item), concept.Negative is null ? null : concepts.Similarity(concept.Negative, item),
                !filter.IsActive || filter.Allows(item), conceptPart, words, named.Contains(item) ? wordBonus : 0, concepts.GenericWordsOf(concept));
            var attributions = new Dictionary<string, double> { [likeMinded ? "like-minded" : "popular"] = popular, ["concept"] = conceptPart };
            float shown = likeMinded ? scores[item] : serving.Transform?.Invoke(scores[item]) ?? scores[item];
            return new Explanation("(new user)", itemId, shown, probability, rank,
                new Dictionary<string, double>(), attributions, [], [], [], [], conceptExplanation, catalogueRank);
        }
        finally
        {
            HierRecTelemetry.Stage("explain", "explain", start);
        }
    }

    /// <summary>
    /// The scores <see cref="RecommendFromDescription"/> ranks by, over the whole catalogue: the like-minded users'
    /// (<see cref="ConceptModel.NeighbourScores"/>) when <paramref name="likeMinded"/> (by default: when that path serves
    /// <paramref name="concept"/>; a variant of a like-minded description with no positive side left has none, all 0), else
    /// the cold-start query served (fused, with nothing known); then word steering's lift at
    /// <see cref="ConceptModel.ColdWordSteeringWeight"/>.
    /// </summary>
    private float[] ColdScores(ConceptModel concepts, ConceptVector concept, out float wordBonus, out IReadOnlyCollection<int> named, bool? likeMinded = null)
    {
        var scores = likeMinded ?? UsesLikeMinded(concepts, concept)
            ? concepts.NeighbourScores(concept, _context.Histories) ?? new float[_items.Count]
            : ServedWithNothingKnown(concepts.SteerNewUser(EmptyUserVector(), concept));
        named = concepts.ColdWordSteeringWeight > 0 ? concepts.Named(concept) : [];
        wordBonus = ConceptModel.Lift(scores, named, concepts.ColdWordSteeringWeight);
        return scores;
    }

    /// <summary>
    /// Where <paramref name="item"/> stands among <paramref name="scores"/> (the whole catalogue): the rank the user is
    /// shown (the <paramref name="hidden"/> items, seen or filtered out, do not count; ties go to the lower item index, as
    /// the ranker orders them), the catalogue-wide rank, and P(i|u): the softmax at <paramref name="temperature"/>, or
    /// with <paramref name="share"/> the item's share of the scores (text cold start's like-minded users).
    /// </summary>
    private static (int Rank, int CatalogueRank, double Probability) Placing(float[] scores, int item, Func<int, bool> hidden, float temperature, bool share = false)
    {
        int catalogueRank = 1 + scores.Count(s => s > scores[item]);
        int rank = 1;
        for (int j = 0; j < scores.Length; j++)
        {
            if (j == item || hidden(j)) continue;
            if (scores[j] > scores[item] || scores[j] == scores[item] && j < item) rank++;
        }
        if (share) return (rank, catalogueRank, LikeMindedShare(scores[item], LikeMindedTotal(scores)));
        double max = scores.Max() / temperature, sum = scores.Sum(s => Math.Exp(s / temperature - max));
        return (rank, catalogueRank, Math.Exp(scores[item] / temperature - max) / sum);
    }

    /// <summary>
    /// The score <see cref="RecommendFromDescription"/> gives item <paramref name="item"/> (dense index) for
    /// <paramref name="description"/>, before the serving transform; with <paramref name="likeMinded"/>, on that path
    /// whatever the description (a deletion test keeps the full description's path).
    /// </summary>
    internal double ColdScore(string description, int item, bool? likeMinded = null)
    {
        using var hold = HoldConcepts();
        return ColdScores(hold.Model, hold.Model.Describe(description), out _, out _, likeMinded)[item];
    }

    /// <summary>
    /// The total of the like-minded scores over the whole catalogue (they are weighted counts, ≥ 0, plus word steering's
    /// lift), the denominator of P(i|description) on that path. A softmax would not do: the scores are counts of people,
    /// not logits, and at a few dozen users their gaps make the first item's softmax nearly 1 whatever the list.
    /// </summary>
    private static double LikeMindedTotal(ReadOnlySpan<float> scores)
    {
        double total = 0;
        foreach (float s in scores) total += Math.Max(0f, s);
        return total;
    }

    /// <summary>P(i|description) on the like-minded path: the item's share of <paramref name="total"/> (0 when nothing is chosen).</summary>
    private static double LikeMindedShare(float score, double total) => total > 0 ? Math.Max(0f, score) / total : 0;

    /// <summary>Whether like-minded users serve <paramref name="concept"/> in text cold start (on, and it has a positive side).</summary>
    internal bool UsesLikeMinded(ConceptVector concept)
    {
        using var hold = TryHoldConcepts();
        return hold is not null && UsesLikeMinded(hold.Model, concept);
    }

    private static bool UsesLikeMinded(ConceptModel concepts, ConceptVector concept) =>
        concepts is { ColdNeighbours: > 0, DescriptionVectors: not null } && concept.Positive is not null;

    /// <summary>The served scores of the whole catalogue for hierarchical query <paramref name="query"/> of a user with nothing known.</summary>
    private float[] ServedWithNothingKnown(float[] query)
    {
        var scores = new float[_served.Count];
        _served.Score(Compose(query, []), scores);
        return scores;
    }

    /// <summary>
    /// Leave-one-out word attributions of a description (its up to <see cref="MaxAttributedWords"/> highest-weighted
    /// positive words): <paramref name="full"/> minus <paramref name="without"/> of the description with that word
    /// deleted, largest magnitude first. Explain and ExplainFromDescription differ only in what they score.
    /// </summary>
    private static TokenWeight[] LeaveOneOutWords(ConceptModel concepts, ConceptVector concept, double full, Func<ConceptVector, double> without) =>
        concept.PositiveTokens.Take(MaxAttributedWords).Select(w =>
        {
            int at = concept.Description.IndexOf(w.Token, StringComparison.Ordinal);
            return at < 0 ? new TokenWeight(w.Token, 0)
                : new TokenWeight(w.Token, full - without(concepts.Describe(concept.Description.Remove(at, w.Token.Length))));
        }).OrderByDescending(w => Math.Abs(w.Weight)).ToArray();

    private Explanation ExplainBatch(string userId, UserBatch batch, string itemId, string? description, bool fused = true)
    {
        using var activity = HierRecTelemetry.ActivitySource.StartActivity("HierRec.Explain");
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            return ExplainCore(userId, batch, itemId, description, fused);
        }
        finally
        {
            HierRecTelemetry.Stage("explain", "explain", start);
        }
    }

    /// <summary>Words of a description given a leave-one-out attribution (the highest-weighted first): one BERT pass each.</summary>
    private const int MaxAttributedWords = 12;

    /// <summary>Most recent items given a leave-one-out attribution in the sequential dimension's part.</summary>
    private const int MaxSequentialItems = 5;

    /// <summary>
    /// For each of the user's most recent items <paramref name="recent"/>, the sequential part of the score minus the same
    /// with that item left out of the sequence (v_u kept, so the differences are in the same units as the part), largest
    /// magnitude first. <paramref name="states"/>: s_u of the whole history, then of each variant without one recent item.
    /// </summary>
    private List<Attribution> SequentialAttributions(int[] recent, float[] states, float[] user, ReadOnlySpan<float> row, float part)
    {
        var fusion = _fusion!;
        int d = fusion.Dimension + (fusion.Collaborative?.Rank ?? 0), h = fusion.Sequential!.Width;
        float v = fusion.SequentialUserWeight(user, states.AsSpan(0, h)); // v_u of the full history, kept for every variant
        var itemRow = row.Slice(d, h);
        var result = new List<Attribution>(recent.Length);
        for (int k = 0; k < recent.Length; k++)
            result.Add(new Attribution(_items.ToExternal(recent[k]), part - v * Dot(states.AsSpan((k + 1) * h, h), itemRow)));
        return result.OrderByDescending(a => Math.Abs(a.Value)).ToList();
    }

    private Explanation ExplainCore(string userId, UserBatch batch, string itemId, string? description, bool fused)
    {
        ArgumentNullException.ThrowIfNull(itemId);
        int item = _items.TryGetDense(itemId, out int di) ? di : throw new KeyNotFoundException($"Unknown item '{itemId}'.");
        using var hold = description is null ? null : HoldConcepts(); // one concept model for the whole explanation
        var concepts = hold?.Model;
        var concept = concepts?.Describe(description!);
        int dim = _model.Options.Dimension;
        var itemVector = _itemArray.AsSpan(item * dim, dim).ToArray();
        using var scope = torch.NewDisposeScope();
        var itemRow = _itemVectors[item].unsqueeze(0);                                     // (1, D)
        EncodedUsers encoded;
        float[] user;
        using (torch.no_grad())
        {
            encoded = _model.Encode(batch, _itemVectors);
            user = Rows(encoded.Users)[0];
        }
        var query = concept is null ? user : concepts!.Steer(user, concept);
        var index = fused ? _served : _index;
        // One SASRec pass for the sequential dimension: s_u of the history (row 0), and without each of its latest items
        // (the rows after it, for the attributions).
        var history0 = batch.Histories[0];
        int[] recent = [];
        float[]? sequenceStates = null;
        if (fused && _fusion?.Sequential is { } sequentialModel && history0.Length > 0)
        {
            recent = history0.Take(MaxSequentialItems).Distinct().ToArray();
            sequenceStates = sequentialModel.UserStates([history0, .. recent.Select(j => history0.Where(h => h != j).ToArray())]);
        }
        var served = fused ? Compose(query, history0, user, state: sequenceStates is null ? default : sequenceStates.AsSpan(0, _fusion!.Sequential!.Width)) : query;
        var scores = new float[index.Count];
        index.Score(served, scores);
        // Word steering lifts the items whose text names a word of the description, as Recommend ranks them.
        IReadOnlyCollection<int> named = concept is not null && concepts is { WordSteeringWeight: > 0 } ? concepts.Named(concept) : [];
        float wordBonus = ConceptModel.Lift(scores, named, concepts?.WordSteeringWeight ?? 0);
        double itemBonus = named.Contains(item) ? wordBonus : 0;
        // The friends' items (a known user's first-hop friends, a newcomer's given friends), added after word steering, as RankQuery adds them.
        bool known = batch.UserIndices is { } indices && indices[0] >= 0;
        var friendDimension = !fused ? null : known ? _friendItems : NewUserFriendItems(batch.Histories[0].Length);
        var itemFriends = friendDimension is null ? null : known ? FriendItemsFriends(batch.UserIndices![0]) : batch.Neighbours[0];
        var friendLifts = AddFriendItems(friendDimension, itemFriends, user, scores);
        var serving = _model.Scorer.Serving;
        var seen = batch.Histories[0].ToHashSet();
        var shownFilter = concept is null ? null : concepts!.Filter(concept);
        var (rank, catalogueRank, probability) = Placing(scores, item, j => seen.Contains(j) || shownFilter is { IsActive: true } f && !f.Allows(j), serving.Temperature);
        var names = _model.Options.LayerNames;
        var contributions = Rows(encoded.Contributions)[0];
        var shares = names.Select((n, l) => (n, (double)contributions[l])).ToDictionary(p => p.n, p => p.Item2);

        // Gradient × input through torch.autograd.grad: nothing accumulates into the parameters, so no lock is needed.
        var layerAttributions = new Dictionary<string, double>();
        var leaves = encoded.Layers.Select(t => t.detach().clone().requires_grad_(true)).ToList();
        var target = (_model.Fusion.Fuse(leaves).Fused * itemRow).sum();
        var grads = torch.autograd.grad([target], leaves);
        for (int l = 0; l < names.Count; l++) layerAttributions[names[l]] = (grads[l] * leaves[l]).sum().item<float>();
        var history = batch.Histories[0].Take(_model.Options.MaxHistory).ToArray();
        var historyAttributions = new List<Attribution>();
        if (_model.Behaviour is not null && history.Length > 0)
        {
            Tensor hv;
            using (torch.no_grad()) hv = _model.HistoryVectors(_itemVectors).detach().clone();
            hv.requires_grad_(true);
            var s = (_model.Encode(batch, _itemVectors, hv).Users * itemRow).sum();
            var g = torch.autograd.grad([s], [hv])[0];
            var perItem = Rows((g * hv).sum(1, keepdim: true)).Select(r => r[0]).ToArray();
            foreach (int h in history.Distinct()) historyAttributions.Add(new Attribution(_items.ToExternal(h), perItem[h]));
        }
        if (concept is not null) layerAttributions["concept"] = Dot(query, itemVector) - Dot(user, itemVector) + itemBonus;
        List<Attribution>? collaborative = null, sequential = null;
        if (fused && _fusion is not null)
        {
            var row = _servedRows.AsSpan(item * _fusion.Width, _fusion.Width);
            var parts = _fusion.Parts(served, row);
            if (_fusion.Collaborative is not null)
            {
                layerAttributions["collaborative"] = parts.Collaborative;
                collaborative = _fusion.HistoryParts(user, batch.Histories[0], item)
                    .Select(p => new Attribution(_items.ToExternal(p.Item), p.Part)).OrderByDescending(a => Math.Abs(a.Value)).ToList();
            }
            if (_fusion.Sequential is not null)
            {
                layerAttributions["sequential"] = parts.Sequential;
                sequential = sequenceStates is null ? [] : SequentialAttributions(recent, sequenceStates, user, row, parts.Sequential);
            }
        }

        List<Attribution>? friendItems = null;
        if (friendLifts is { } lifts)
        {
            float lift = Fusion.FriendItemsDimension.LiftOf(lifts, item);
            layerAttributions["friends' items"] = lift;
            // Each of those friends who chose the item holds an equal part of the lift (the parts sum to it).
            var choosers = friendDimension!.Choosers(itemFriends!, item);
            friendItems = choosers.Select(f => new Attribution(_users.ToExternal(f), lift / choosers.Length)).ToList();
        }
        var historyWeights = encoded.HistoryWeights is null ? null : Rows(encoded.HistoryWeights)[0];
        var historyAttention = historyWeights is null ? [] : history
            .Select((it, j) => new Attribution(_items.ToExternal(it), historyWeights[j])).OrderByDescending(p => p.Value).ToList();
        var friends = batch.Neighbours[0];
        var friendWeights = encoded.FriendWeights is null ? null : Rows(encoded.FriendWeights)[0];
        var friendAttention = friendWeights is null ? [] : friends
            .Select((f, j) => new Attribution(_users.ToExternal(f), friendWeights[j])).OrderByDescending(p => p.Value).ToList();
        var friendAttributions = new List<Attribution>();
        if (_model.Social is not null && friends.Length > 0)
        {
            // Leave-one-out: row j of the batch is the user without friend j.
            int f = friends.Length;
            var without = Enumerable.Range(0, f).Select(j => friends.Where((_, k) => k != j).ToArray()).ToArray();
            var hops = batch.Hops is null ? null : Enumerable.Range(0, f).Select(j => batch.Hops[0].Where((_, k) => k != j).ToArray()).ToArray();
            var variants = new UserBatch(Enumerable.Repeat(batch.Profiles[0], f).ToArray(), Enumerable.Repeat(batch.Histories[0], f).ToArray(), without, hops,
                batch.UserIndices is null ? null : Enumerable.Repeat(batch.UserIndices[0], f).ToArray());
            float full = Dot(user, itemVector);
            var others = Vectors(variants);
            for (int j = 0; j < f; j++) friendAttributions.Add(new Attribution(_users.ToExternal(friends[j]), full - Dot(others[j], itemVector)));
        }
        ConceptExplanation? conceptExplanation = null;
        if (concept is not null && concepts is not null) // the one held for this explanation
        {
            var filter = concepts.Filter(concept);
            // Per-item word attributions, leave-one-out: the steering part of this item's score minus the same with the
            // word deleted from the description (attention weights say how the concept was pooled, not what it did here).
            double steering = layerAttributions["concept"];
            var wordAttributions = LeaveOneOutWords(concepts, concept, steering, without =>
            {
                double bonusWithout = wordBonus > 0 && concepts.Named(without).Contains(item) ? wordBonus : 0; // the same σ_u: the lift is per query
                return Dot(concepts.Steer(user, without), itemVector) - Dot(user, itemVector) + bonusWithout;
            });
            conceptExplanation = new ConceptExplanation(concept.Description, concept.Clauses, concept.PositiveTokens, concept.NegativeTokens,
                concept.Positive is null ? null : concepts.Similarity(concept.Positive, item), concept.Negative is null ? null : concepts.Similarity(concept.Negative, item),
                !filter.IsActive || filter.Allows(item), steering, wordAttributions, itemBonus, concepts.GenericWordsOf(concept));
        }
        float shown = serving.Transform?.Invoke(scores[item]) ?? scores[item];
        return new Explanation(userId, itemId, shown, probability, rank, shares, layerAttributions,
            historyAttributions.OrderByDescending(a => Math.Abs(a.Value)).ToList(), historyAttention,
            friendAttributions.OrderByDescending(a => Math.Abs(a.Value)).ToList(), friendAttention, conceptExplanation, catalogueRank, null, collaborative, sequential, friendItems);
    }
}

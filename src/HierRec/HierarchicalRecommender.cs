using HierRec.Concepts;
using HierRec.Data;
using HierRec.Explanations;
using HierRec.Items;
using HierRec.Ranking;
using HierRec.Tensors;
using HierRec.Tensors.Autograd;
using HierRec.Tensors.Serialization;
using HierRec.Text;
using HierRec.Text.Legacy;
using BertModel = HierRec.Text.Legacy.BertModel;
using HierRec.Training;
using HierRec.Users;

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
    /// <see cref="BertMode"/> is Frozen, this model is fine-tuned in place (and LoRA adds adapters to it).
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

    /// <summary>Seed of initialisation. Default 1.</summary>
    public ulong Seed { get; init; } = 1;
}

/// <summary>One recommended item.</summary>
/// <param name="ItemId">External item id.</param>
/// <param name="ItemIndex">Dense item index.</param>
/// <param name="Score">⟨q_u, E_i⟩ (q_u: the user vector, steered by a description when one is given).</param>
/// <param name="Probability">P(i|u), softmax of the score over the whole catalogue.</param>
public sealed record Recommendation(string ItemId, int ItemIndex, float Score, double Probability);

/// <summary>
/// The package's facade: fits the hierarchical model (pre-training a domain BERT on the item texts when needed), then
/// serves top-k recommendations through the ranker, cold-start users, explanations, and saves or loads everything needed
/// to serve.
/// </summary>
/// <remarks>Serving methods are safe to call concurrently; <see cref="Fit"/> creates a new instance.</remarks>
public sealed class HierarchicalRecommender
{
    private readonly HierarchicalModel _model;
    private readonly UserContext _context;
    private readonly IdMap _users, _items;
    private readonly Tensor _itemVectors;
    private readonly ItemIndex _index;

    private HierarchicalRecommender(HierarchicalModel model, UserContext context, IdMap users, IdMap items, BertModel? bert, HierarchicalTrainingReport? report)
    {
        _model = model;
        _context = context;
        _users = users;
        _items = items;
        Bert = bert;
        TrainingReport = report;
        model.Eval();
        using (GradMode.NoGrad()) _itemVectors = model.ItemTower.Forward();
        _index = ItemIndex.Create(_itemVectors);
    }

    /// <summary>The trained model.</summary>
    public HierarchicalModel Model => _model;

    /// <summary>The item-text BERT, or null when the model reads no text.</summary>
    public BertModel? Bert { get; }

    /// <summary>The training report (null after <see cref="Load"/>).</summary>
    public HierarchicalTrainingReport? TrainingReport { get; }

    /// <summary>What <see cref="Fit"/> measured while pre-training the domain BERT, or null.</summary>
    public MlmReport? BertReport { get; private set; }

    /// <summary>Profiles, histories and neighbourhoods of the known users.</summary>
    public UserContext Context => _context;

    /// <summary>The serving index of item vectors.</summary>
    public ItemIndex Index => _index;

    /// <summary>Trains on <paramref name="train"/> (early stopping on <paramref name="validation"/> when given).</summary>
    public static HierarchicalRecommender Fit(Dataset train, Dataset? validation, RecommenderOptions? options = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        options ??= new RecommenderOptions();
        var m = options.Model;
        if (m.UseSocial && train.SocialEdges.Count == 0) m = m with { UseSocial = false };
        var rng = new Rng(options.Seed);
        BertModel? bert = null;
        MlmReport? bertReport = null;
        ItemTextEncoder? textEncoder = null;
        if (m.UseText)
        {
            var texts = ItemTexts.FromFeatures(train.ItemFeatures);
            progress?.Report(new TrainingProgress(0, 0, 0, double.NaN, null, options.Bert is null ? "pre-training the item-text BERT" : "encoding item texts"));
            bert = options.Bert ?? DomainBert.Pretrain(texts, options.DomainBert, out bertReport, null, cancellationToken);
            textEncoder = new ItemTextEncoder(bert, texts, options.BertMode, options.Pooling, options.DomainBert.MaxLength);
        }
        // Profile vocabularies and statistics come from users with training interactions only.
        var active = new bool[train.UserCount];
        foreach (var x in train.Interactions) active[x.User] = true;
        var profile = m.UseProfile ? new ProfileEncoder(train.UserFeatures, Enumerable.Range(0, train.UserCount).Where(u => active[u]), m.Dimension, rng) : null;
        var model = new HierarchicalModel(train.UserCount, train.ItemCount, profile, textEncoder?.Width ?? 0, m, rng);
        if (textEncoder is not null) model.ItemTower.AttachTextEncoder(textEncoder);
        if (m.UseText)
        {
            var warm = new bool[train.ItemCount];
            foreach (var x in train.Interactions) warm[x.Item] = true;
            model.ItemTower.Warm = warm; // items never seen in training are served from their text alone
        }
        var context = UserContext.FromDataset(train, m.MaxFriends, m.TwoHop, options.Seed);
        var report = new HierarchicalTrainer(options.Training).Fit(model, new HierarchicalTrainingData(train, validation, context), progress, cancellationToken);
        model.ItemTower.Bake(); // serve from fixed text vectors of the fine-tuned BERT
        bert?.Eval();
        return new HierarchicalRecommender(model, context, train.Users, train.Items, bert, report) { BertReport = bertReport };
    }

    /// <summary>The top <paramref name="k"/> items for a known user, excluding items the user has interacted with.</summary>
    /// <exception cref="KeyNotFoundException">Unknown user id.</exception>
    public IReadOnlyList<Recommendation> Recommend(string userId, int k = 10)
    {
        int u = _users.TryGetDense(userId, out int d) ? d : throw new KeyNotFoundException($"Unknown user '{userId}'; use RecommendForNewUser for users outside the training data.");
        return RankFor(_context.Batch([u]), _context.Histories[u], k);
    }

    /// <summary>
    /// Cold start: recommendations for a user outside the training data, from a profile, friends who are known users,
    /// and recently interacted items (most recent first); any of them may be empty. Unknown ids are an error.
    /// </summary>
    public IReadOnlyList<Recommendation> RecommendForNewUser(UserProfile profile, IReadOnlyList<string> friendIds, IReadOnlyList<string> recentItemIds, int k = 10)
    {
        var batch = NewUserBatch(profile, friendIds, recentItemIds, out var history);
        return RankFor(batch, history, k);
    }

    private UserBatch NewUserBatch(UserProfile profile, IReadOnlyList<string> friendIds, IReadOnlyList<string> recentItemIds, out int[] history)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(friendIds);
        ArgumentNullException.ThrowIfNull(recentItemIds);
        history = recentItemIds.Select(i => _items.TryGetDense(i, out int d) ? d : throw new KeyNotFoundException($"Unknown item '{i}' in recentItemIds.")).ToArray();
        var friends = friendIds.Select(f => _users.TryGetDense(f, out int d) ? d : throw new KeyNotFoundException($"Unknown friend '{f}'; friends must be known users.")).Take(_model.Options.MaxFriends).ToArray();
        return new UserBatch([profile], [history], [friends], _context.Hops is null ? null : [friends.Select(_ => 1).ToArray()]);
    }

    private Recommendation[] RankFor(UserBatch batch, int[] seen, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        float[] user;
        using (GradMode.NoGrad()) user = _model.Encode(batch, _itemVectors).Users.ToArray();
        return RankQuery(user, seen, k, null);
    }

    /// <summary>
    /// Why <paramref name="itemId"/> scores as it does for a known user: score, P(i|u), rank, the layers' shares and
    /// signed attributions, the history items (gradient × input) and friends (leave-one-out) that moved the score, and,
    /// with a <paramref name="description"/>, what the description contributed.
    /// </summary>
    public Explanation Explain(string userId, string itemId, string? description = null)
    {
        int u = _users.TryGetDense(userId, out int d) ? d : throw new KeyNotFoundException($"Unknown user '{userId}'.");
        return ExplainBatch(userId, _context.Batch([u]), itemId, description);
    }

    /// <summary>As <see cref="Explain"/>, for a new user described as in <see cref="RecommendForNewUser"/>.</summary>
    public Explanation ExplainForNewUser(UserProfile profile, IReadOnlyList<string> friendIds, IReadOnlyList<string> recentItemIds, string itemId, string? description = null) =>
        ExplainBatch("(new user)", NewUserBatch(profile, friendIds, recentItemIds, out _), itemId, description);

    private readonly Lock _attributionLock = new();

    private Explanation ExplainBatch(string userId, UserBatch batch, string itemId, string? description)
    {
        int item = _items.TryGetDense(itemId, out int di) ? di : throw new KeyNotFoundException($"Unknown item '{itemId}'.");
        var concept = description is null ? null : RequireConcepts().Describe(description);
        int dim = _model.Options.Dimension;
        var itemRow = Tensor.FromArray(_itemVectors.Data.Slice(item * dim, dim), 1, dim);
        UserEncoding encoded;
        float[] user;
        using (GradMode.NoGrad())
        {
            encoded = _model.Encode(batch, _itemVectors);
            user = encoded.Users.ToArray();
        }
        var query = concept is null ? user : Concepts!.Steer(user, concept);
        var scores = new float[_index.Count];
        _index.Score(query, scores);
        double max = scores.Max(), sum = scores.Sum(s => Math.Exp(s - max));
        int rank = 1 + scores.Count(s => s > scores[item]);
        var names = _model.Options.LayerNames;
        var shares = names.Select((n, l) => (n, (double)encoded.Contributions.Data[l])).ToDictionary(p => p.n, p => p.Item2);

        // Gradient × input, for the layer vectors (leaves standing in for them) and for the history items' vectors.
        var layerAttributions = new Dictionary<string, double>();
        var history = batch.Histories[0].Take(_model.Options.MaxHistory).ToArray();
        var historyAttributions = new List<Attribution>();
        lock (_attributionLock) // the backward pass also accumulates into the parameters' gradients, which are cleared after
        {
            var leaves = encoded.Layers.Select(t => new Tensor(t.ToArray(), 1, dim) { RequiresGrad = true }).ToList();
            Ops.Sum(((IFusion)_model.Fusion).Fuse(leaves, out _) * itemRow).Backward();
            for (int l = 0; l < names.Count; l++) layerAttributions[names[l]] = Dot(leaves[l].Grad!.Data, leaves[l].Data);
            _model.ZeroGrad();
            if (_model.Behaviour is not null && history.Length > 0)
            {
                Tensor hv;
                using (GradMode.NoGrad()) hv = _model.HistoryVectors(_itemVectors).Clone();
                hv.RequiresGrad = true;
                Ops.Sum(_model.Encode(batch, _itemVectors, hv).Users * itemRow).Backward();
                foreach (int h in history.Distinct())
                    historyAttributions.Add(new Attribution(_items.ToExternal(h), Dot(hv.Grad!.Data.Slice(h * dim, dim), hv.Data.Slice(h * dim, dim))));
                _model.ZeroGrad();
            }
        }
        if (concept is not null) layerAttributions["concept"] = Dot(query, itemRow.Data) - Dot(user, itemRow.Data);

        var historyAttention = encoded.HistoryWeights is null ? [] : history
            .Select((it, j) => new Attribution(_items.ToExternal(it), encoded.HistoryWeights.Data[j])).OrderByDescending(p => p.Value).ToList();
        var friends = batch.Neighbours[0];
        var friendAttention = encoded.FriendWeights is null ? [] : friends
            .Select((f, j) => new Attribution(_users.ToExternal(f), encoded.FriendWeights.Data[j])).OrderByDescending(p => p.Value).ToList();
        var friendAttributions = new List<Attribution>();
        if (_model.Social is not null && friends.Length > 0)
        {
            // Leave-one-out: row j of the batch is the user without friend j.
            int f = friends.Length;
            var without = Enumerable.Range(0, f).Select(j => friends.Where((_, k) => k != j).ToArray()).ToArray();
            var hops = batch.Hops is null ? null : Enumerable.Range(0, f).Select(j => batch.Hops[0].Where((_, k) => k != j).ToArray()).ToArray();
            var variants = new UserBatch(Enumerable.Repeat(batch.Profiles[0], f).ToArray(), Enumerable.Repeat(batch.Histories[0], f).ToArray(), without, hops,
                batch.UserIndices is null ? null : Enumerable.Repeat(batch.UserIndices[0], f).ToArray());
            float full = Dot(user, itemRow.Data);
            using (GradMode.NoGrad())
            {
                var others = Ops.MatMul(_model.Encode(variants, _itemVectors).Users, itemRow, transposeB: true).ToArray();
                for (int j = 0; j < f; j++) friendAttributions.Add(new Attribution(_users.ToExternal(friends[j]), full - others[j]));
            }
        }
        ConceptExplanation? conceptExplanation = null;
        if (concept is not null)
        {
            var filter = Concepts!.Filter(concept);
            conceptExplanation = new ConceptExplanation(concept.Description, concept.Clauses, concept.PositiveTokens, concept.NegativeTokens,
                concept.Positive is null ? null : Concepts.Similarity(concept.Positive, item), concept.Negative is null ? null : Concepts.Similarity(concept.Negative, item),
                !filter.IsActive || filter.Allows(item), layerAttributions["concept"]);
        }
        return new Explanation(userId, itemId, scores[item], Math.Exp(scores[item] - max) / sum, rank, shares, layerAttributions,
            historyAttributions.OrderByDescending(a => Math.Abs(a.Value)).ToList(), historyAttention,
            friendAttributions.OrderByDescending(a => Math.Abs(a.Value)).ToList(), friendAttention, conceptExplanation);
    }

    private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => System.Numerics.Tensors.TensorPrimitives.Dot(a, b);

    /// <summary>⟨x_u, E_i⟩ for a known user whose history is replaced by <paramref name="history"/> (for deletion tests).</summary>
    internal float ScoreWithHistory(int user, int[] history, int item)
    {
        int dim = _model.Options.Dimension;
        return Dot(UserVectorsWithHistories([user], [history])[0], _itemVectors.Data.Slice(item * dim, dim));
    }

    /// <summary>
    /// x_u of known users (dense indices), without gradients, in batches of 256; encoded with <paramref name="histories"/>
    /// (most recent first) instead of their training histories when given. The one path every user vector takes.
    /// </summary>
    internal float[][] UserVectorsWithHistories(int[] users, int[][]? histories)
    {
        var result = new float[users.Length][];
        int dim = _model.Options.Dimension;
        using (GradMode.NoGrad())
            for (int s = 0; s < users.Length; s += 256)
            {
                int n = Math.Min(256, users.Length - s);
                var batch = _context.Batch(users.AsSpan(s, n).ToArray());
                if (histories is not null) batch = batch with { Histories = histories.AsSpan(s, n).ToArray() };
                var x = _model.Encode(batch, _itemVectors).Users;
                for (int r = 0; r < n; r++) result[s + r] = x.Data.Slice(r * dim, dim).ToArray();
            }
        return result;
    }

    internal IdMap UserIds => _users;

    internal IdMap ItemIds => _items;

    // ------------------------------------------------------------------ concepts

    /// <summary>The concept model (descriptions, self-supervised interest, filter), after <see cref="FitConcepts"/> or a load; else null.</summary>
    public ConceptModel? Concepts { get; private set; }

    private ConceptModel RequireConcepts() => Concepts ?? throw new InvalidOperationException("No concept model: call FitConcepts (or load a recommender saved with one) first.");

    /// <summary>
    /// Trains the concept model on the known users' descriptions (several phrasings each allowed) and attaches it:
    /// afterwards descriptions filter and steer <see cref="Recommend(string, string, int)"/>, serve users with no history
    /// (<see cref="RecommendFromDescription"/>) and appear in explanations. Users without a description are skipped.
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
            perUser[_users.TryGetDense(id, out int u) ? u : throw new KeyNotFoundException($"Description for unknown user '{id}'.")] = list;
        int[][]? validationItems = null;
        if (validation is not null)
        {
            var lists = Enumerable.Range(0, _users.Count).Select(_ => new List<int>()).ToArray();
            foreach (var x in validation.Interactions) lists[x.User].Add(x.Item);
            validationItems = lists.Select(l => l.ToArray()).ToArray();
        }
        var data = new ConceptTrainingData(_context.Histories, perUser, _itemVectors, ItemTexts.FromFeatures(train.ItemFeatures), validationItems, UserVectors, EmptyUserVector());
        var model = ConceptTrainer.Fit(data, options ?? new ConceptOptions { MaxHistory = _model.Options.MaxHistory }, out var report, progress, cancellationToken);
        Concepts = model;
        return report;
    }

    /// <summary>The fused user vectors x_u of known users (dense indices), without gradients.</summary>
    internal float[][] UserVectors(int[] users) => UserVectorsWithHistories(users, null);

    /// <summary>The fused user vector x_u of a known user (the query the ranker scores items with).</summary>
    public float[] UserVector(string userId) =>
        UserVectors([_users.TryGetDense(userId, out int u) ? u : throw new KeyNotFoundException($"Unknown user '{userId}'.")])[0];

    /// <summary>Splits and encodes a description (needs <see cref="Concepts"/>).</summary>
    public ConceptVector Describe(string description) => RequireConcepts().Describe(description);

    /// <summary>
    /// The top <paramref name="k"/> items for a known user, steered towards and filtered by <paramref name="description"/>
    /// (items the user has seen excluded). Fewer than k come back when the filter leaves fewer.
    /// </summary>
    public IReadOnlyList<Recommendation> Recommend(string userId, string description, int k = 10)
    {
        ArgumentNullException.ThrowIfNull(description);
        int u = _users.TryGetDense(userId, out int d) ? d : throw new KeyNotFoundException($"Unknown user '{userId}'; use RecommendFromDescription for users outside the training data.");
        var concepts = RequireConcepts();
        var concept = concepts.Describe(description);
        return RankQuery(concepts.Steer(UserVectors([u])[0], concept), _context.Histories[u], k, concepts.Filter(concept));
    }

    /// <summary>
    /// The top <paramref name="k"/> items for a known user ranked by the self-supervised behaviour interest,
    /// S_ui = ⟨I_u, P_i⟩, instead of the hierarchical x_u; steered and filtered by <paramref name="description"/> when one
    /// is given. Seen items are excluded.
    /// </summary>
    public IReadOnlyList<Recommendation> RecommendByInterest(string userId, string? description = null, int k = 10)
    {
        int u = _users.TryGetDense(userId, out int d) ? d : throw new KeyNotFoundException($"Unknown user '{userId}'.");
        var concepts = RequireConcepts();
        var interest = concepts.InterestOf(_context.Histories[u]);
        if (description is null) return RankQuery(interest, _context.Histories[u], k, null);
        var concept = concepts.Describe(description);
        return RankQuery(concepts.Steer(interest, concept), _context.Histories[u], k, concepts.Filter(concept));
    }

    /// <summary>
    /// Text cold start: the top <paramref name="k"/> items for someone known only by a description: the vector of a user
    /// with nothing known, steered towards C⁺ (<see cref="ConceptModel.ColdSteeringWeight"/>), filtered by the concept filter.
    /// </summary>
    public IReadOnlyList<Recommendation> RecommendFromDescription(string description, int k = 10)
    {
        ArgumentNullException.ThrowIfNull(description);
        var concepts = RequireConcepts();
        var concept = concepts.Describe(description);
        return RankQuery(concepts.SteerNewUser(EmptyUserVector(), concept), [], k, concepts.Filter(concept));
    }

    /// <summary>x_∅: the fused vector of a user with no profile, friends or history.</summary>
    private float[] EmptyUserVector() => _emptyUser ??= EncodeEmptyUser(); // the model is fixed after Fit or Load

    private float[]? _emptyUser;

    private float[] EncodeEmptyUser()
    {
        var batch = new UserBatch([UserProfile.Empty], [Array.Empty<int>()], [Array.Empty<int>()]);
        using (GradMode.NoGrad()) return _model.Encode(batch, _itemVectors).Users.ToArray();
    }

    private Recommendation[] RankQuery(float[] query, int[] seen, int k, ItemFilter? extra)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        ItemFilter? filter = seen.Length > 0 ? ItemFilter.Exclude(seen) : null;
        if (extra is ConceptFilter { IsActive: false }) extra = null;
        if (extra is not null) filter = filter is null ? extra : ItemFilter.All(filter, extra);
        var ranked = _index.Rank(query, k, new RankOptions { Filter = filter });
        return ranked.Select(r => new Recommendation(_items.ToExternal(r.ItemIndex), r.ItemIndex, r.Score, r.Probability)).ToArray();
    }

    // ------------------------------------------------------------------ persistence

    private sealed record Manifest(string Format, int Version, HierarchicalOptions Model, ProfileSchema? Profile, int Users, int Items, int TextWidth,
        string[] UserIds, string[] ItemIds, int[][] Histories, int[][] Neighbours, int[][]? Hops, UserProfile[] Profiles, bool[]? Warm);

    /// <summary>
    /// Writes everything needed to serve, atomically as one folder: recommender.json (architecture, profile schema, ids,
    /// the users' histories, neighbours and profiles), model.safetensors, text.safetensors (cached item text vectors),
    /// items.hrix (the ranker's index), bert/ (the item-text BERT folder, for new items) and concepts/ (the concept model, if any).
    /// </summary>
    public void Save(string folder)
    {
        var manifest = new Manifest("hierrec-hierarchical", 1, _model.Options, _model.Profile?.Schema, _model.UserCount, _model.ItemTower.Items, _model.ItemTower.TextWidth,
            [.. _users.External], [.. _items.External], [.. _context.Histories], [.. _context.Neighbours], _context.Hops?.ToArray(), [.. _context.Profiles], _model.ItemTower.Warm);
        var bytes = ManifestJson.Serialize(manifest);
        AtomicFile.WriteDirectory(folder, dir =>
        {
            AtomicFile.Write(Path.Combine(dir, "recommender.json"), s => s.Write(bytes));
            // BERT goes to bert/ (adapters merged); the model file holds the recommender's own parameters.
            SafeTensors.Save(Path.Combine(dir, "model.safetensors"), _model.StateDict().Where(p => !p.Key.StartsWith("items.text_encoder.", StringComparison.Ordinal)));
            if (_model.ItemTower.TextVectors is { } text) SafeTensors.Save(Path.Combine(dir, "text.safetensors"), [new("text", text)]);
            _index.Save(Path.Combine(dir, "items.hrix"));
            Bert?.Save(Path.Combine(dir, "bert"));
            Concepts?.Save(Path.Combine(dir, "concepts"));
        });
    }

    /// <summary>Loads a folder written by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">The folder is not a HierRec recommender or its files disagree (named).</exception>
    public static HierarchicalRecommender Load(string folder)
    {
        var manifest = ManifestJson.Read<Manifest>(folder, "recommender.json", "HierarchicalRecommender", "hierrec-hierarchical", 1, m => (m.Format, m.Version));
        var rng = new Rng(0);
        var profile = manifest.Profile is null ? null : new ProfileEncoder(manifest.Profile, rng);
        var model = new HierarchicalModel(manifest.Users, manifest.Items, profile, manifest.TextWidth, manifest.Model, rng);
        string weights = Path.Combine(folder, "model.safetensors");
        model.LoadParameters(SafeTensors.Load(weights).Tensors, source: weights);
        if (manifest.TextWidth > 0) model.ItemTower.TextVectors = SafeTensors.Load(Path.Combine(folder, "text.safetensors")).Tensors["text"];
        model.ItemTower.Warm = manifest.Warm;
        var users = new IdMap();
        foreach (var id in manifest.UserIds) users.GetOrAdd(id);
        var items = new IdMap();
        foreach (var id in manifest.ItemIds) items.GetOrAdd(id);
        var context = UserContext.Create(manifest.Profiles, manifest.Histories, manifest.Neighbours, manifest.Hops);
        string bertFolder = Path.Combine(folder, "bert");
        var bert = Directory.Exists(bertFolder) ? BertModel.Load(bertFolder, new BertLoadOptions { AllowMissingHeads = true }) : null;
        model.RefreshBehaviourTable(context);
        var recommender = new HierarchicalRecommender(model, context, users, items, bert, null);
        string concepts = Path.Combine(folder, "concepts");
        if (Directory.Exists(concepts)) recommender.Concepts = ConceptModel.Load(concepts, recommender._itemVectors);
        return recommender;
    }
}

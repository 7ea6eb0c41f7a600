using System.Text.Json;
using HierRec.Data;
using HierRec.Items;
using HierRec.Ranking;
using HierRec.Tensors;
using HierRec.Tensors.Autograd;
using HierRec.Tensors.Serialization;
using HierRec.Text;
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
/// <param name="Score">⟨x_u, E_i⟩.</param>
/// <param name="Probability">P(i|u), softmax of the score over the whole catalogue.</param>
public sealed record Recommendation(string ItemId, int ItemIndex, float Score, double Probability);

/// <summary>Why an item was scored as it was for a user.</summary>
/// <param name="UserId">The user (or "(new user)").</param>
/// <param name="ItemId">The item.</param>
/// <param name="Score">⟨x_u, E_i⟩.</param>
/// <param name="Probability">P(i|u) over the whole catalogue.</param>
/// <param name="Rank">1-based rank of the item among all items for this user (seen items included).</param>
/// <param name="LayerContributions">Each user layer's share of the fused user vector (profile / behaviour / social).</param>
/// <param name="HistoryAttention">The behaviour layer's attention weights over the user's history items, largest first (attention, not an attribution).</param>
/// <param name="FriendAttention">The social layer's attention weights over neighbours, largest first.</param>
public sealed record Explanation(string UserId, string ItemId, float Score, double Probability, int Rank,
    IReadOnlyDictionary<string, double> LayerContributions, IReadOnlyList<(string ItemId, double Weight)> HistoryAttention,
    IReadOnlyList<(string UserId, double Weight)> FriendAttention);

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
        var ranked = _index.Rank(user, k, new RankOptions { Filter = seen.Length > 0 ? ItemFilter.Exclude(seen) : null });
        return ranked.Select(r => new Recommendation(_items.ToExternal(r.ItemIndex), r.ItemIndex, r.Score, r.Probability)).ToArray();
    }

    /// <summary>The score, P(i|u), rank and per-layer contributions of <paramref name="itemId"/> for a known user.</summary>
    public Explanation Explain(string userId, string itemId)
    {
        int u = _users.TryGetDense(userId, out int d) ? d : throw new KeyNotFoundException($"Unknown user '{userId}'.");
        return ExplainBatch(userId, _context.Batch([u]), itemId);
    }

    /// <summary>As <see cref="Explain"/>, for a new user described as in <see cref="RecommendForNewUser"/>.</summary>
    public Explanation ExplainForNewUser(UserProfile profile, IReadOnlyList<string> friendIds, IReadOnlyList<string> recentItemIds, string itemId) =>
        ExplainBatch("(new user)", NewUserBatch(profile, friendIds, recentItemIds, out _), itemId);

    private Explanation ExplainBatch(string userId, UserBatch batch, string itemId)
    {
        int item = _items.TryGetDense(itemId, out int di) ? di : throw new KeyNotFoundException($"Unknown item '{itemId}'.");
        using var _ = GradMode.NoGrad();
        var encoded = _model.Encode(batch, _itemVectors);
        var scores = Ops.MatMul(encoded.Users, _itemVectors, transposeB: true).ToArray();
        double max = scores.Max(), sum = scores.Sum(s => Math.Exp(s - max));
        int rank = 1 + scores.Count(s => s > scores[item]);
        var names = _model.Options.LayerNames;
        var contributions = names.Select((n, l) => (n, (double)encoded.Contributions.Data[l])).ToDictionary(p => p.n, p => p.Item2);
        var history = batch.Histories[0];
        var historyAttention = encoded.HistoryWeights is null ? [] : history.Take(_model.Options.MaxHistory)
            .Select((it, j) => (_items.ToExternal(it), (double)encoded.HistoryWeights.Data[j])).OrderByDescending(p => p.Item2).ToList();
        var friends = batch.Neighbours[0];
        var friendAttention = encoded.FriendWeights is null ? [] : friends
            .Select((f, j) => (_users.ToExternal(f), (double)encoded.FriendWeights.Data[j])).OrderByDescending(p => p.Item2).ToList();
        return new Explanation(userId, itemId, scores[item], Math.Exp(scores[item] - max) / sum, rank, contributions, historyAttention, friendAttention);
    }

    // ------------------------------------------------------------------ persistence

    private sealed record Manifest(string Format, int Version, HierarchicalOptions Model, ProfileSchema? Profile, int Users, int Items, int TextWidth,
        string[] UserIds, string[] ItemIds, int[][] Histories, int[][] Neighbours, int[][]? Hops, UserProfile[] Profiles, bool[]? Warm);

    private static readonly JsonSerializerOptions Json = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>
    /// Writes everything needed to serve, atomically as one folder: recommender.json (architecture, profile schema, ids,
    /// the users' histories, neighbours and profiles), model.safetensors, text.safetensors (cached item text vectors),
    /// items.hrix (the ranker's index) and bert/ (the item-text BERT folder, for new items).
    /// </summary>
    public void Save(string folder)
    {
        var manifest = new Manifest("hierrec-hierarchical", 1, _model.Options, _model.Profile?.Schema, _model.UserCount, _model.ItemTower.Items, _model.ItemTower.TextWidth,
            [.. _users.External], [.. _items.External], [.. _context.Histories], [.. _context.Neighbours], _context.Hops?.ToArray(), [.. _context.Profiles], _model.ItemTower.Warm);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(manifest, Json);
        AtomicFile.WriteDirectory(folder, dir =>
        {
            AtomicFile.Write(Path.Combine(dir, "recommender.json"), s => s.Write(bytes));
            // BERT goes to bert/ (adapters merged); the model file holds the recommender's own parameters.
            SafeTensors.Save(Path.Combine(dir, "model.safetensors"), _model.StateDict().Where(p => !p.Key.StartsWith("items.text_encoder.", StringComparison.Ordinal)));
            if (_model.ItemTower.TextVectors is { } text) SafeTensors.Save(Path.Combine(dir, "text.safetensors"), [new("text", text)]);
            _index.Save(Path.Combine(dir, "items.hrix"));
            Bert?.Save(Path.Combine(dir, "bert"));
        });
    }

    /// <summary>Loads a folder written by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">The folder is not a HierRec recommender or its files disagree (named).</exception>
    public static HierarchicalRecommender Load(string folder)
    {
        string path = Path.Combine(folder, "recommender.json");
        if (!File.Exists(path)) throw new FileNotFoundException($"{folder}: recommender.json is missing; not a saved HierarchicalRecommender.", path);
        Manifest manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<Manifest>(File.ReadAllBytes(path), Json) ?? throw new InvalidDataException($"{path}: empty.");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path}: not valid ({ex.Message}).", ex);
        }
        if (manifest.Format != "hierrec-hierarchical" || manifest.Version != 1)
            throw new InvalidDataException($"{path}: format {manifest.Format} version {manifest.Version} is not supported (hierrec-hierarchical 1).");
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
        return new HierarchicalRecommender(model, context, users, items, bert, null);
    }
}

using HierRec.Concepts;
using HierRec.Data;
using HierRec.Items;
using HierRec.Ranking;
using HierRec.Text;
using HierRec.Training;
using HierRec.Users;
using TorchSharp;
using static TorchSharp.torch;

namespace HierRec;

/// <summary>
/// The package's facade: fits the hierarchical model (pre-training a domain BERT on the item texts when needed), then
/// serves top-k recommendations through the ranker, cold-start users, explanations, and saves or loads everything needed
/// to serve. This file composes and fits; serving, explanation, concepts and persistence each have a file of their own.
/// </summary>
/// <remarks>Serving methods are safe to call concurrently; <see cref="Fit"/> creates a new instance.</remarks>
public sealed partial class HierarchicalRecommender
{
    private readonly HierarchicalModel _model;
    private readonly UserContext _context;
    private readonly IdMap _users, _items;
    private readonly Tensor _itemVectors;   // (items, D) on the model's device, for the behaviour layer
    private readonly float[] _itemArray;    // the same, row-major on the CPU, for the ranker and the concepts
    private readonly ItemIndex _index;     // the hierarchical dimension's item vectors (D wide)
    private ItemIndex _served;             // what Recommend ranks with: _index, or the fused rows of the collaborative dimension
    private float[] _servedRows;           // its rows

    // savedItems, on load: the item vectors the saved index holds. They are served as they are (so a loaded
    // recommender ranks bit for bit as the saved one did, whatever thread count libtorch runs with now), after a check
    // that the model recomputes them to within rounding.
    private HierarchicalRecommender(HierarchicalModel model, UserContext context, IdMap users, IdMap items, BertModel? bert, HierarchicalTrainingReport? report,
        (float[] Rows, string Source)? savedItems = null)
    {
        _model = model;
        _context = context;
        _users = users;
        _items = items;
        Bert = bert;
        TrainingReport = report;
        model.eval();
        using (var scope = torch.NewDisposeScope()) // temporaries freed here, not by the finalizer thread
        using (torch.no_grad()) _itemVectors = model.ItemVectors().DetachFromDisposeScope();
        _itemArray = TorchInterop.ToFloats(_itemVectors);
        if (savedItems is var (rows, source))
        {
            string? error = null;
            if (rows.Length != _itemArray.Length)
                error = $"{source}: {rows.Length} values; the model gives {_itemArray.Length} ({model.ItemTower.Items} items × {model.Options.Dimension}).";
            float scale = 1e-6f + Math.Abs(System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(_itemArray));
            for (int j = 0; error is null && j < rows.Length; j++)
                if (Math.Abs(rows[j] - _itemArray[j]) > 1e-3f * scale)
                    error = $"{source}: item {j / model.Options.Dimension}'s vector differs from what the saved model computes ({rows[j]} against {_itemArray[j]}); the index and the weights are from different saves.";
            if (error is not null)
            {
                _itemVectors.Dispose(); // the caller frees the model; this recommender never existed
                throw new InvalidDataException(error);
            }
            _itemArray = rows;
            var device = _itemVectors.device;
            _itemVectors.Dispose();
            using var scope = torch.NewDisposeScope();
            _itemVectors = torch.tensor(rows, [model.ItemTower.Items, model.Options.Dimension]).to(device).DetachFromDisposeScope();
        }
        var serving = model.Scorer.Serving;
        _index = ItemIndex.Create(_itemArray, model.ItemTower.Items, model.Options.Dimension, similarity: serving.Similarity);
        _served = _index;
        _servedRows = _itemArray;
        _knownVectors = new float[]?[context.Histories.Count];
    }

    /// <summary>
    /// Layers the options asked for that Fit switched off because the data has nothing for them, with the reason
    /// ("profile": no user features; "social": no social edges; "text": no item text; "collaborative": a catalogue above
    /// CollaborativeOptions.MaxItems, or a cosine scorer). Empty after Load.
    /// </summary>
    public IReadOnlyDictionary<string, string> DisabledLayers { get; private init; } = new Dictionary<string, string>();

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

    /// <summary>
    /// The serving index: the item rows <see cref="Recommend(string, int)"/> ranks with, queried by <see cref="UserVector"/>
    /// ([E_i ; V_i] with the collaborative dimension, else E_i).
    /// </summary>
    public ItemIndex Index => _served;

    /// <summary>The hierarchical dimension's index of item vectors E (D wide), which dynamic serving and concepts read.</summary>
    internal ItemIndex HierarchicalIndex => _index;

    internal IdMap UserMap => _users;

    /// <summary>The (items, D) item vectors on the model's device (owned by the recommender; read, never disposed).</summary>
    internal Tensor ItemVectors => _itemVectors;

    /// <summary>The item vectors, row-major on the CPU.</summary>
    internal ReadOnlySpan<float> ItemRows => _itemArray;

    internal IdMap ItemMap => _items;

    /// <summary>Trains on <paramref name="train"/> (early stopping on <paramref name="validation"/> when given).</summary>
    /// <remarks>
    /// Progress arrives as phases (pre-training BERT, encoding item texts) with their own steps, then the recommender's
    /// training steps and epochs (see <see cref="TrainingProgress"/>), then the collaborative dimension's phases
    /// ("solving EASE", "collaborative dimension": each λ and γ tried). A fit that is cancelled or fails frees the native
    /// memory of what it built before the exception goes on; a BERT given in <see cref="RecommenderOptions.Bert"/> is
    /// not freed then and stays the caller's (its weights as the fit left them). The recommender returned owns its
    /// libtorch memory, that BERT included: <see cref="Dispose"/> it when done.
    /// </remarks>
    public static HierarchicalRecommender Fit(Dataset train, Dataset? validation, RecommenderOptions? options = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        options ??= new RecommenderOptions();
        options.Validate();
        if (train.Interactions.Count == 0) throw new ArgumentException($"The training data '{train.Name}' has no interactions.", nameof(train));
        if (validation is not null && (validation.UserCount != train.UserCount || validation.ItemCount != train.ItemCount))
            throw new ArgumentException($"The validation data has {validation.UserCount} users × {validation.ItemCount} items; the training data {train.UserCount} × {train.ItemCount}: they must come from one split.", nameof(validation));
        var m = options.Model;
        // A layer with no data behind it is off, and says so (DisabledLayers): a profile layer over users without
        // features is one shared vector, which would take layer shares and explanations without telling anything.
        var disabled = new Dictionary<string, string>(StringComparer.Ordinal);
        if (m.UseSocial && train.SocialEdges.Count == 0)
        {
            m = m with { UseSocial = false };
            disabled["social"] = "the training data has no social edges";
        }
        if (m.UseProfile && !train.UserFeatures.CategoricalColumns.Any() && !train.UserFeatures.NumericColumns.Any() && (m.UseBehaviour || m.UseSocial))
        {
            m = m with { UseProfile = false };
            disabled["profile"] = "the training data has no user features";
        }
        if (m.UseText && !train.ItemFeatures.TextColumns.Any() && !train.ItemFeatures.TagColumns.Any() && m.UseItemIds)
        {
            m = m with { UseText = false };
            disabled["text"] = "the items have no text or tags";
        }
        var device = options.Device ?? torch.CPU;
        BertModel? bert = null;
        ItemTextEncoder? textEncoder = null;
        ProfileEncoder? profile = null;
        HierarchicalModel? model = null;
        HierarchicalRecommender? recommender = null;
        try
        {
            MlmReport? bertReport = null;
            if (m.UseText)
            {
                var texts = ItemTexts.FromFeatures(train.ItemFeatures);
                bert = options.Bert ?? DomainBert.Pretrain(texts, options.DomainBert, out bertReport, progress, cancellationToken, device);
                progress?.Report(TrainingProgress.PhaseStarted("encoding item texts", $"BERT over {texts.Length} item texts ({options.BertMode.Kind})"));
                textEncoder = new ItemTextEncoder(bert, texts, options.BertMode, options.Pooling, options.DomainBert.MaxLength);
            }
            // Profile vocabularies and statistics come from users with training interactions only.
            var active = new bool[train.UserCount];
            foreach (var x in train.Interactions) active[x.User] = true;
            long seed = (long)(options.Seed & long.MaxValue);
            if (m.UseProfile)
            {
                using var generator = new Generator((ulong)seed ^ 0x9F0F11E);
                profile = new ProfileEncoder(train.UserFeatures, Enumerable.Range(0, train.UserCount).Where(u => active[u]), m.Dimension, generator);
            }
            model = new HierarchicalModel(train.UserCount, train.ItemCount, profile, textEncoder?.Width ?? 0, m, seed);
            if (device.type != DeviceType.CPU) model.to(device);
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
            // The friends' behaviour table was last computed from text vectors encoded batch by batch during training; recompute
            // it from the baked vectors, exactly as Load will, so a saved and a loaded recommender serve the same users the same.
            model.RefreshBehaviourTable(context);
            bert?.eval();
            recommender = new HierarchicalRecommender(model, context, train.Users, train.Items, bert, report) { BertReport = bertReport, DisabledLayers = disabled };
            var c = options.Collaborative;
            if (c.Enabled && train.ItemCount > c.MaxItems)
                disabled["collaborative"] = $"the catalogue has {train.ItemCount} items, above CollaborativeOptions.MaxItems ({c.MaxItems}): the dense EASE solve needs 4n² bytes";
            else if (c.Enabled && model.Scorer.Serving.Similarity == Ranking.Similarity.Cosine)
                disabled["collaborative"] = "the cosine scorer normalises the fused vectors, which would change both dimensions' scores; use the dot or sigmoid scorer";
            var q = options.Sequential;
            if (q.Enabled && train.ItemCount > q.MaxItems)
                disabled["sequential"] = $"the catalogue has {train.ItemCount} items, above SequentialDimensionOptions.MaxItems ({q.MaxItems}): SASRec scores every item at every position";
            else if (q.Enabled && model.Scorer.Serving.Similarity == Ranking.Similarity.Cosine)
                disabled["sequential"] = "the cosine scorer normalises the fused vectors, which would change every dimension's scores; use the dot or sigmoid scorer";
            else if (q.Enabled && !HasTimeOrder(train))
                disabled["sequential"] = "no user's training interactions have two different timestamps: there is no order to learn from";
            bool useC = c.Enabled && !disabled.ContainsKey("collaborative"), useQ = q.Enabled && !disabled.ContainsKey("sequential");
            if (useC || useQ)
            {
                cancellationToken.ThrowIfCancellationRequested();
                recommender.FitFusion(train, validation, useC ? c : null, useQ ? q : null, seed, progress, cancellationToken);
            }
            var f = options.FriendItems;
            if (f.Enabled && train.SocialEdges.Count == 0)
                disabled["friends' items"] = "the training data has no social edges";
            else if (f.Enabled && model.Scorer.Serving.Similarity == Ranking.Similarity.Cosine)
                disabled["friends' items"] = "the cosine scorer's scores are not in the units the dimension is rescaled to; use the dot or sigmoid scorer";
            else if (f.Enabled)
            {
                cancellationToken.ThrowIfCancellationRequested();
                recommender.FitFriendItems(train, validation, f, options.Seed, progress, cancellationToken);
            }
            return recommender;
        }
        catch
        {
            // Cancelled or failed: what was built is freed now (the GC never frees a libtorch module's memory). A BERT the
            // caller passed in is a child of the text encoder by then: it is unregistered first and stays the caller's.
            bool callers = options.Bert is not null;
            if (callers) textEncoder?.ReleaseBert();
            recommender?.DisposeParts(disposeBert: !callers); // disposing a module twice is harmless
            model?.Dispose();
            textEncoder?.Dispose();
            profile?.Dispose();
            if (!callers) bert?.Dispose();
            throw;
        }
    }

    /// <summary>Whether some user's training interactions carry two different timestamps.</summary>
    private static bool HasTimeOrder(Dataset train)
    {
        var first = new Dictionary<int, long>();
        foreach (var x in train.Interactions)
        {
            if (!first.TryGetValue(x.User, out long t)) first[x.User] = x.Timestamp;
            else if (t != x.Timestamp) return true;
        }
        return false;
    }
}

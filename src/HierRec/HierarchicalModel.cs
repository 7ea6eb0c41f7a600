using HierRec.Fusion;
using HierRec.Items;
using HierRec.Modules;
using HierRec.Scoring;
using HierRec.Users;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HierRec;

/// <summary>
/// The hierarchical user-interest model, composed from the four seams: a profile layer (<see cref="IEncoder{TInput}"/>
/// of <see cref="UserProfile"/>), a behaviour layer conditioned on the profile and a social layer conditioned on the
/// behaviour (the chain), fused by an <see cref="IFusion"/> into x_u; items come from an <see cref="ItemTower"/> (ids
/// plus BERT text); an <see cref="IScorer"/> scores users against items (⟨x_u, E_i⟩ by default, whose softmax over the
/// catalogue is P(i|u)).
/// </summary>
/// <remarks>
/// Training is single-threaded; concurrent inference in eval mode under <c>torch.no_grad()</c> is safe. Every tensor
/// the model creates goes to the device of its parameters: move the model with <c>model.to(device)</c>.
/// </remarks>
public sealed class HierarchicalModel : nn.Module
{
    /// <summary>Registers nothing by reflection: the constructor registers every component by name (<see cref="Training.TorchCheckpoint.State"/> says why).</summary>
    protected override void RegisterComponents() { }

    private Tensor? _behaviourTable;

    /// <summary>Creates the model.</summary>
    /// <param name="userCount">Users (rows of the behaviour table of the social layer).</param>
    /// <param name="itemCount">Catalogue size.</param>
    /// <param name="profile">The profile encoder (built from the training users' features), or null to skip the layer.</param>
    /// <param name="textWidth">Width of the item text vectors (0 without text).</param>
    /// <param name="options">Architecture.</param>
    /// <param name="seed">Seed of the initialisation (the profile encoder brings its own weights).</param>
    public HierarchicalModel(int userCount, int itemCount, ProfileEncoder? profile, int textWidth, HierarchicalOptions options, long seed = 1)
        : base(nameof(HierarchicalModel))
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(userCount);
        if (options.LayerNames.Count == 0) throw new ArgumentException("At least one user layer must be enabled.", nameof(options));
        if (options.UseSocial && !options.UseBehaviour) throw new ArgumentException("The social layer reads friends' behaviour vectors: it needs the behaviour layer.", nameof(options));
        if (options.UseProfile && profile is null) throw new ArgumentException("UseProfile needs a ProfileEncoder.", nameof(profile));
        if (profile is not null && profile.Dimension != options.Dimension)
            throw new ArgumentException($"The profile encoder has dimension {profile.Dimension}; the model has {options.Dimension}.", nameof(profile));
        Options = options;
        UserCount = userCount;
        int d = options.Dimension;
        using var generator = new Generator((ulong)seed);
        ItemTower = new ItemTower(itemCount, d, options.UseText ? textWidth : 0, generator, options.UseItemIds);
        register_module("items", ItemTower);
        if (options.UseProfile)
        {
            Profile = profile;
            register_module("profile", profile!);
        }
        if (options.UseBehaviour)
        {
            Behaviour = new BehaviourEncoder(d, options.MaxHistory, generator, options.Heads);
            register_module("behaviour", Behaviour);
            if (options.HistoryEmbeddings)
            {
                HistoryItems = Layers.Embedding(itemCount, d, 0.05, generator);
                register_module("history_items", HistoryItems);
            }
            if (options.UserEmbeddings)
            {
                UserIds = Layers.Embedding(userCount, d, 0.05, generator);
                register_module("user_ids", UserIds);
            }
        }
        if (options.UseSocial)
        {
            Social = new SocialEncoder(d, generator, options.Heads);
            register_module("social", Social);
        }
        int layers = options.LayerNames.Count;
        nn.Module fusion = options.Fusion switch
        {
            FusionKind.Gated => new GatedFusion(layers, d, generator),
            FusionKind.ConcatMlp => new ConcatMlpFusion(layers, d, generator),
            _ => new AttentionFusion(layers, d, generator),
        };
        Fusion = (IFusion)fusion;
        register_module("fusion", fusion);
        Scorer = options.Scorer switch
        {
            ScorerKind.Cosine => new CosineScorer(options.Temperature),
            ScorerKind.Sigmoid => new SigmoidScorer(),
            _ => new DotScorer(),
        };
        if (Scorer is nn.Module scorerModule) register_module("scorer", scorerModule);
    }

    /// <summary>The architecture.</summary>
    public HierarchicalOptions Options { get; }

    /// <summary>Users in the behaviour table.</summary>
    public int UserCount { get; }

    /// <summary>Where the parameters are (and every tensor the model creates goes).</summary>
    public Device Device => Layers.DeviceOf(this);

    /// <summary>Item vectors.</summary>
    public ItemTower ItemTower { get; }

    /// <summary>Profile layer, or null.</summary>
    public ProfileEncoder? Profile { get; }

    /// <summary>Behaviour layer, or null.</summary>
    public BehaviourEncoder? Behaviour { get; }

    /// <summary>The behaviour layer's own item embeddings, or null.</summary>
    public Embedding? HistoryItems { get; }

    /// <summary>Social layer, or null.</summary>
    public SocialEncoder? Social { get; }

    /// <summary>Learnt per-user embeddings added to the behaviour vector, or null.</summary>
    public Embedding? UserIds { get; }

    /// <summary>The fusion of the user layers.</summary>
    public IFusion Fusion { get; }

    /// <summary>How users and items are scored (training reads its logits; serving its <see cref="ServingScore"/>).</summary>
    public IServableScorer Scorer { get; }

    /// <summary>
    /// Behaviour vectors of every user, read by the social layer for friends; refreshed by <see cref="RefreshBehaviourTable"/>
    /// (the trainer does it each epoch). Zeros until then. The model owns the tensor.
    /// </summary>
    public Tensor? BehaviourTable
    {
        get => _behaviourTable;
        set
        {
            if (value is not null && (value.dim() != 2 || value.shape[0] != UserCount || value.shape[1] != Options.Dimension))
                throw new ArgumentException($"The behaviour table must be ({UserCount}, {Options.Dimension}); got {TorchInterop.ShapeString(value.shape)}.", nameof(value));
            _behaviourTable?.Dispose();
            _behaviourTable = value?.detach().DetachFromDisposeScope();
        }
    }

    /// <summary>All item vectors from the tower, (items, D).</summary>
    public Tensor ItemVectors() => ItemTower.forward();

    /// <summary>Encodes users against the given item vectors (from <see cref="ItemVectors"/>).</summary>
    public EncodedUsers Encode(UserBatch batch, Tensor items) => Encode(batch, items, null);

    /// <summary>
    /// As <see cref="Encode(UserBatch, Tensor)"/>, with the behaviour layer reading <paramref name="historyVectors"/> (items, D)
    /// instead of <see cref="HistoryVectors"/>(items): a leaf there gives gradients with respect to each history item (attributions).
    /// </summary>
    public EncodedUsers Encode(UserBatch batch, Tensor items, Tensor? historyVectors)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(items);
        if (batch.Profiles.Count != batch.Count || batch.Neighbours.Count != batch.Count)
            throw new ArgumentException($"The batch has {batch.Profiles.Count} profiles, {batch.Count} histories and {batch.Neighbours.Count} neighbour lists; they must agree.", nameof(batch));
        using var scope = torch.NewDisposeScope();
        var layers = new List<Tensor>(3);
        Tensor? p = null, bv = null, historyWeights = null, friendWeights = null;
        if (Profile is not null)
        {
            p = Profile.Encode(batch.Profiles);
            layers.Add(p);
        }
        if (Behaviour is not null)
        {
            var read = historyVectors ?? HistoryVectors(items);
            var output = Behaviour.forward(new BehaviourInput(read, batch.Histories, p));
            bv = AddUserEmbedding(output.Vectors, batch.UserIndices);
            historyWeights = output.Weights;
            layers.Add(bv);
        }
        if (Social is not null)
        {
            var table = _behaviourTable ?? torch.zeros(UserCount, Options.Dimension, device: items.device);
            var output = Social.forward(new SocialInput(bv!, table, batch.Neighbours, batch.Hops));
            friendWeights = output.Weights;
            layers.Add(output.Vectors);
        }
        var fused = Fusion.Fuse(layers);
        foreach (var l in layers) l.MoveToOuterDisposeScope();
        return new EncodedUsers(fused.Fused.MoveToOuterDisposeScope(), layers, fused.Contributions.MoveToOuterDisposeScope(),
            historyWeights?.MoveToOuterDisposeScope(), friendWeights?.MoveToOuterDisposeScope());
    }

    private Tensor AddUserEmbedding(Tensor behaviour, IReadOnlyList<int>? users)
    {
        if (UserIds is null || users is null) return behaviour;
        var ids = new long[users.Count];
        var mask = new float[users.Count];
        for (int r = 0; r < users.Count; r++)
        {
            if (users[r] >= UserCount) throw new ArgumentOutOfRangeException(nameof(users), users[r], $"User index {users[r]} at row {r} is outside the {UserCount} known users.");
            ids[r] = Math.Max(0, users[r]);
            mask[r] = users[r] >= 0 ? 1f : 0f;
        }
        var device = behaviour.device;
        return behaviour.Plus(UserIds.forward(torch.tensor(ids, device: device)) * torch.tensor(mask, [users.Count, 1], device: device));
    }

    /// <summary>The vectors the behaviour layer reads for items: the item vectors plus the history embeddings, if any.</summary>
    public Tensor HistoryVectors(Tensor items) => HistoryItems is null ? items.alias() : items.Plus(HistoryItems.weight!);

    /// <summary>Scores (B, N) of users (B, D) against items (N, D) with <see cref="Scorer"/>'s logits: what the losses read.</summary>
    public Tensor Logits(Tensor users, Tensor items) => Scorer.Logits(users, items);

    /// <summary>Recomputes <see cref="BehaviourTable"/> for all users from <paramref name="context"/>, in eval mode without gradients.</summary>
    public void RefreshBehaviourTable(UserContext context, int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        if (Behaviour is null) return;
        bool training = this.training;
        eval();
        try
        {
            using var noGrad = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            var items = HistoryVectors(ItemTower.forward());
            var parts = new List<Tensor>();
            for (int s = 0; s < UserCount; s += batchSize)
            {
                var users = Enumerable.Range(s, Math.Min(batchSize, UserCount - s)).ToArray();
                var batch = context.Batch(users);
                var profile = Profile?.Encode(batch.Profiles);
                var output = Behaviour.forward(new BehaviourInput(items, batch.Histories, profile));
                parts.Add(AddUserEmbedding(output.Vectors, batch.UserIndices));
            }
            BehaviourTable = torch.cat(parts, 0);
        }
        finally
        {
            train(training);
        }
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing) _behaviourTable?.Dispose();
        base.Dispose(disposing);
    }
}

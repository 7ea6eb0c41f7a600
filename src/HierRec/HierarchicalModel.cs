using HierRec.Fusion;
using HierRec.Items;
using HierRec.Tensors;
using HierRec.Tensors.Autograd;
using HierRec.Tensors.Layers;
using HierRec.Users;

namespace HierRec;

/// <summary>How the hierarchical model fuses its layers.</summary>
public enum FusionKind
{
    /// <summary><see cref="AttentionFusion"/> (default): the weights are the per-layer contributions.</summary>
    Attention,

    /// <summary><see cref="GatedFusion"/>.</summary>
    Gated,

    /// <summary><see cref="ConcatMlpFusion"/>.</summary>
    ConcatMlp,
}

/// <summary>The architecture of a <see cref="HierarchicalModel"/>.</summary>
public sealed record HierarchicalOptions
{
    /// <summary>Model dimension D of users, items and layers. Default 64.</summary>
    public int Dimension { get; init; } = 64;

    /// <summary>Use the basic-information layer. Default true.</summary>
    public bool UseProfile { get; init; } = true;

    /// <summary>Use the behaviour layer. Default true.</summary>
    public bool UseBehaviour { get; init; } = true;

    /// <summary>Use the social layer (needs a friend graph). Default true.</summary>
    public bool UseSocial { get; init; } = true;

    /// <summary>Use BERT item-text vectors in the item tower. Default true.</summary>
    public bool UseText { get; init; } = true;

    /// <summary>Learn item id embeddings. Default true.</summary>
    public bool UseItemIds { get; init; } = true;

    /// <summary>Most recent history items the behaviour layer reads. Default 200.</summary>
    public int MaxHistory { get; init; } = 200;

    /// <summary>Most friends the social layer reads (a fixed random sample per user beyond that). Default 30.</summary>
    public int MaxFriends { get; init; } = 30;

    /// <summary>Add friends of friends (hop 2) to the social layer, up to <see cref="MaxFriends"/> in total. Default false.</summary>
    public bool TwoHop { get; init; }

    /// <summary>Fusion of the layers. Default attention.</summary>
    public FusionKind Fusion { get; init; } = FusionKind.Attention;

    /// <summary>
    /// Give the behaviour layer its own item embeddings for reading histories (added to the item tower's vectors), so an
    /// item's role as evidence and as a candidate can differ (as input and output weights do in autoencoders). Default true.
    /// </summary>
    public bool HistoryEmbeddings { get; init; } = true;

    /// <summary>
    /// Add a learnt embedding per known user to the behaviour layer (the collaborative part matrix factorisation has);
    /// new users get none. Default true.
    /// </summary>
    public bool UserEmbeddings { get; init; } = true;

    /// <summary>Attention heads of the behaviour and social layers. Default 2.</summary>
    public int Heads { get; init; } = 2;

    /// <summary>Names of the enabled user layers, in fusion order.</summary>
    public IReadOnlyList<string> LayerNames =>
        [.. (UseProfile ? ["profile"] : Array.Empty<string>()), .. (UseBehaviour ? ["behaviour"] : Array.Empty<string>()), .. (UseSocial ? ["social"] : Array.Empty<string>())];
}

/// <summary>What the model knows of a batch of users.</summary>
/// <param name="Profiles">Basic information per user.</param>
/// <param name="Histories">Per user, item indices most recent first.</param>
/// <param name="Neighbours">Per user, neighbour user indices (hop 1 first); empty arrays without a graph.</param>
/// <param name="Hops">Per user, the hop of each neighbour (1 or 2), or null when all are first-hop.</param>
/// <param name="UserIndices">Per user, the known user's index (for the learnt user embedding), or −1 for a new user; null: all new.</param>
public sealed record UserBatch(IReadOnlyList<UserProfile> Profiles, IReadOnlyList<int[]> Histories, IReadOnlyList<int[]> Neighbours, IReadOnlyList<int[]>? Hops = null, IReadOnlyList<int>? UserIndices = null)
{
    /// <summary>Number of users.</summary>
    public int Count => Histories.Count;
}

/// <summary>A batch of encoded users.</summary>
/// <param name="Users">(B, D) fused user vectors.</param>
/// <param name="Layers">The layer vectors, in <see cref="HierarchicalOptions.LayerNames"/> order, each (B, D).</param>
/// <param name="Contributions">(B, L) each layer's share of the fused vector.</param>
/// <param name="HistoryWeights">(B, T) behaviour attention over the history, or null.</param>
/// <param name="FriendWeights">(B, F) social attention over the neighbours, or null.</param>
public sealed record UserEncoding(Tensor Users, IReadOnlyList<Tensor> Layers, Tensor Contributions, Tensor? HistoryWeights, Tensor? FriendWeights);

/// <summary>
/// The hierarchical user-interest model: a profile layer, a behaviour layer conditioned on the profile and a social layer
/// conditioned on the behaviour (the chain), fused into x_u; items come from an <see cref="ItemTower"/> (ids plus BERT
/// text); the score of user u and item i is ⟨x_u, E_i⟩ and P(i|u) is its softmax over the catalogue.
/// </summary>
/// <remarks>Training is single-threaded; concurrent inference in no-grad scopes and eval mode is safe.</remarks>
public sealed class HierarchicalModel : Module
{
    /// <summary>Creates the model.</summary>
    /// <param name="userCount">Users (rows of the behaviour table of the social layer).</param>
    /// <param name="itemCount">Catalogue size.</param>
    /// <param name="profile">The profile encoder (built from the training users' features), or null to skip the layer.</param>
    /// <param name="textWidth">Width of the cached item text vectors (0 without text).</param>
    /// <param name="options">Architecture.</param>
    /// <param name="rng">Initialisation.</param>
    public HierarchicalModel(int userCount, int itemCount, ProfileEncoder? profile, int textWidth, HierarchicalOptions options, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(rng);
        if (options.LayerNames.Count == 0) throw new ArgumentException("At least one user layer must be enabled.", nameof(options));
        if (options.UseSocial && !options.UseBehaviour) throw new ArgumentException("The social layer reads friends' behaviour vectors: it needs the behaviour layer.", nameof(options));
        if (options.UseProfile && profile is null) throw new ArgumentException("UseProfile needs a ProfileEncoder.", nameof(profile));
        Options = options;
        UserCount = userCount;
        int d = options.Dimension;
        ItemTower = RegisterModule("items", new ItemTower(itemCount, d, options.UseText ? textWidth : 0, rng, options.UseItemIds));
        if (options.UseProfile) Profile = RegisterModule("profile", profile!);
        if (options.UseBehaviour) Behaviour = RegisterModule("behaviour", new BehaviourEncoder(d, options.MaxHistory, rng, options.Heads));
        if (options.UseBehaviour && options.HistoryEmbeddings) HistoryItems = RegisterModule("history_items", new Embedding(itemCount, d, rng, 0.05f));
        if (options.UseBehaviour && options.UserEmbeddings) UserIds = RegisterModule("user_ids", new Embedding(userCount, d, rng, 0.05f));
        if (options.UseSocial) Social = RegisterModule("social", new SocialEncoder(d, rng, options.Heads));
        int layers = options.LayerNames.Count;
        Fusion = options.Fusion switch
        {
            FusionKind.Gated => RegisterModule("fusion", new GatedFusion(layers, d, rng)),
            FusionKind.ConcatMlp => RegisterModule("fusion", new ConcatMlpFusion(layers, d, rng)),
            _ => RegisterModule("fusion", new AttentionFusion(layers, d, rng)),
        };
    }

    /// <summary>The architecture.</summary>
    public HierarchicalOptions Options { get; }

    /// <summary>Users in the behaviour table.</summary>
    public int UserCount { get; }

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

    private Tensor AddUserEmbedding(Tensor behaviour, IReadOnlyList<int>? users)
    {
        if (UserIds is null || users is null) return behaviour;
        int b = users.Count;
        var ids = new int[b];
        var mask = new Tensor(b, 1);
        for (int r = 0; r < b; r++)
        {
            ids[r] = Math.Max(0, users[r]);
            mask.Data[r] = users[r] >= 0 ? 1f : 0f;
        }
        return behaviour + UserIds.Forward(ids, b) * mask;
    }

    /// <summary>The fusion (an <see cref="IFusion"/> module).</summary>
    public Module Fusion { get; }

    /// <summary>
    /// Behaviour vectors of every user, read by the social layer for friends; refreshed by <see cref="RefreshBehaviourTable"/>
    /// (the trainer does it each epoch). Zeros until then.
    /// </summary>
    public Tensor? BehaviourTable { get; set; }

    /// <summary>Encodes users against the given item vectors (from <c>ItemTower.Forward()</c>).</summary>
    public UserEncoding Encode(UserBatch batch, Tensor items) => Encode(batch, items, null);

    /// <summary>
    /// As <see cref="Encode(UserBatch, Tensor)"/>, with the behaviour layer reading <paramref name="historyVectors"/> (items, D)
    /// instead of <see cref="HistoryVectors"/>(items): a leaf there gives gradients with respect to each history item (attributions).
    /// </summary>
    public UserEncoding Encode(UserBatch batch, Tensor items, Tensor? historyVectors)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(items);
        int b = batch.Count;
        var layers = new List<Tensor>(3);
        Tensor? p = null, bv = null, historyWeights = null, friendWeights = null;
        if (Profile is not null)
        {
            p = Profile.Encode(batch.Profiles);
            layers.Add(p);
        }
        if (Behaviour is not null)
        {
            bv = EncodeBehaviour(batch, historyVectors ?? HistoryVectors(items), p, out historyWeights);
            layers.Add(bv);
        }
        if (Social is not null)
        {
            var table = BehaviourTable ?? Tensor.Zeros(UserCount, Options.Dimension);
            layers.Add(Social.Forward(bv!, table, batch.Neighbours, batch.Hops, out var fw));
            friendWeights = fw;
        }
        var fused = ((IFusion)Fusion).Fuse(layers, out var contributions);
        return new UserEncoding(fused, layers, contributions, historyWeights, friendWeights);
    }

    /// <summary>The behaviour vector: attention over the history conditioned on the profile, plus the user's own embedding.</summary>
    private Tensor EncodeBehaviour(UserBatch batch, Tensor historyVectors, Tensor? profile, out Tensor historyWeights) =>
        AddUserEmbedding(Behaviour!.Forward(historyVectors, batch.Histories, profile, out historyWeights), batch.UserIndices);

    /// <summary>The vectors the behaviour layer reads for items: the item vectors plus the history embeddings, if any.</summary>
    public Tensor HistoryVectors(Tensor items) => HistoryItems is null ? items : items + HistoryItems.Weight;

    /// <summary>Recomputes <see cref="BehaviourTable"/> for all users from <paramref name="context"/>, in no-grad and eval mode.</summary>
    public void RefreshBehaviourTable(UserContext context, int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (Behaviour is null) return;
        using (EvalScope())
        using (GradMode.NoGrad())
        {
            var items = HistoryVectors(ItemTower.Forward());
            var table = new Tensor(UserCount, Options.Dimension);
            for (int s = 0; s < UserCount; s += batchSize)
            {
                var users = Enumerable.Range(s, Math.Min(batchSize, UserCount - s)).ToArray();
                var batch = context.Batch(users);
                var bv = EncodeBehaviour(batch, items, Profile?.Encode(batch.Profiles), out _);
                bv.Data.CopyTo(table.Data.Slice(s * Options.Dimension, users.Length * Options.Dimension));
            }
            BehaviourTable = table;
        }
    }
}

using HierRec.Tensors;
using HierRec.Tensors.Layers;

namespace HierRec.Users;

/// <summary>
/// The behaviour layer: attention over the vectors of the items a user interacted with, most recent first, with a learnt
/// recency embedding per position, and a query conditioned on the profile vector (q = W p_u + q₀; q₀ alone without a
/// profile). h = W_o Attn(q, K h, h) + Σh/√n and b_u = h + MLP(h). The attention weights over the history are returned for explanations.
/// </summary>
public sealed class BehaviourEncoder : Module
{
    /// <summary>Creates the layer.</summary>
    public BehaviourEncoder(int dimension, int maxHistory, Rng rng, int heads = 2)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxHistory);
        if (dimension % heads != 0) throw new ArgumentException($"dimension {dimension} is not divisible by heads {heads}.", nameof(heads));
        Dimension = dimension;
        MaxHistory = maxHistory;
        Heads = heads;
        Recency = RegisterModule("recency", new Embedding(maxHistory, dimension, rng, 0.01f));
        QueryFromProfile = RegisterModule("query_from_profile", new Linear(dimension, dimension, rng));
        QueryBias = RegisterParameter("query", Tensor.RandomNormal(rng, 0.1f, dimension));
        Key = RegisterModule("key", new Linear(dimension, dimension, rng));
        Output = RegisterModule("output", new Linear(dimension, dimension, rng));
        Hidden = RegisterModule("hidden", new Linear(dimension, 2 * dimension, rng));
        Final = RegisterModule("final", new Linear(2 * dimension, dimension, rng));
    }

    /// <summary>First layer of the output MLP.</summary>
    public Linear Hidden { get; }

    /// <summary>Second layer of the output MLP.</summary>
    public Linear Final { get; }

    /// <summary>D.</summary>
    public int Dimension { get; }

    /// <summary>Longest history used (the most recent items).</summary>
    public int MaxHistory { get; }

    /// <summary>Attention heads.</summary>
    public int Heads { get; }

    /// <summary>Recency embeddings (position 0 = most recent).</summary>
    public Embedding Recency { get; }

    /// <summary>W of the profile-conditioned query.</summary>
    public Linear QueryFromProfile { get; }

    /// <summary>q₀.</summary>
    public Tensor QueryBias { get; }

    /// <summary>Key projection.</summary>
    public Linear Key { get; }

    /// <summary>Output projection.</summary>
    public Linear Output { get; }

    /// <summary>Encodes histories.</summary>
    /// <param name="items">All item vectors (items, D).</param>
    /// <param name="histories">Per user, item indices most recent first (longer lists are cut to <see cref="MaxHistory"/>).</param>
    /// <param name="profile">(B, D) profile vectors, or null.</param>
    /// <param name="weights">(B, T) attention weights averaged over heads (padding 0), T = longest history in the batch.</param>
    public Tensor Forward(Tensor items, IReadOnlyList<int[]> histories, Tensor? profile, out Tensor weights)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(histories);
        int b = histories.Count, d = Dimension;
        int t = Math.Max(1, histories.Count == 0 ? 1 : histories.Max(h => Math.Min(h.Length, MaxHistory)));
        var ids = new int[b * t];
        var positions = new int[b * t];
        var mask = new Tensor(b, t);
        for (int r = 0; r < b; r++)
        {
            var h = histories[r];
            int n = Math.Min(h.Length, MaxHistory);
            for (int j = 0; j < n; j++)
            {
                ids[r * t + j] = h[j];
                positions[r * t + j] = j;
                mask.Data[r * t + j] = 1f;
            }
        }
        var hist = Ops.Embedding(items, ids, b, t) + Recency.Forward(positions, b, t);          // (B, T, D)
        Tensor q = Tensor.Zeros(b, d) + QueryBias;
        if (profile is not null) q = q + QueryFromProfile.Forward(profile);
        var attended = Ops.Attention(Ops.Reshape(q, b, 1, d), Key.Forward(hist), hist, Heads, mask, out var probs, keepProbabilities: true);
        weights = HeadMean(probs!, b, t, Heads);
        // Sum / √n of the history (the normalised multi-hot of autoencoder recommenders) keeps how much a user has seen.
        var scale = new Tensor(b, 1);
        for (int r = 0; r < b; r++) scale.Data[r] = MathF.Sqrt(Math.Max(1, Math.Min(histories[r].Length, MaxHistory)));
        var pooled = Text.Legacy.BertPooling.MaskedMean(hist, mask) * scale;
        var z = Output.Forward(Ops.Reshape(attended, b, d)) + pooled;
        return z + Final.Forward(Ops.Tanh(Hidden.Forward(z)));
    }

    /// <summary>(B, heads, 1, T) attention probabilities → (B, T) averaged over heads.</summary>
    internal static Tensor HeadMean(Tensor probabilities, int b, int t, int heads) =>
        Items.DynamicItemEncoder.HeadMean(probabilities, b, 1, t, heads).Reshape(b, t);
}

/// <summary>
/// The social layer: attention over the behaviour vectors of a user's friends (and, optionally, friends of friends),
/// with the query conditioned on the user's own behaviour vector; s_u = W_o Attn(W_q b_u, K f, f) + mean(f).
/// Friends' vectors are inputs (a table refreshed by the trainer), so no gradient flows into other users' histories.
/// </summary>
public sealed class SocialEncoder : Module
{
    /// <summary>Creates the layer.</summary>
    public SocialEncoder(int dimension, Rng rng, int heads = 2)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        Dimension = dimension;
        Heads = heads;
        Query = RegisterModule("query", new Linear(dimension, dimension, rng));
        Key = RegisterModule("key", new Linear(dimension, dimension, rng));
        Output = RegisterModule("output", new Linear(dimension, dimension, rng));
        HopEmbedding = RegisterModule("hop", new Embedding(2, dimension, rng, 0.01f));
    }

    /// <summary>D.</summary>
    public int Dimension { get; }

    /// <summary>Heads.</summary>
    public int Heads { get; }

    /// <summary>Query projection of the user's behaviour vector.</summary>
    public Linear Query { get; }

    /// <summary>Key projection.</summary>
    public Linear Key { get; }

    /// <summary>Output projection.</summary>
    public Linear Output { get; }

    /// <summary>Marks first- and second-hop neighbours.</summary>
    public Embedding HopEmbedding { get; }

    /// <summary>Encodes the neighbourhoods.</summary>
    /// <param name="own">(B, D) the users' behaviour vectors.</param>
    /// <param name="table">(users, D) behaviour vectors of every user (a constant).</param>
    /// <param name="neighbours">Per user, neighbour user indices; hop 1 first.</param>
    /// <param name="hops">Per user, the hop (1 or 2) of each neighbour, or null for all first-hop.</param>
    /// <param name="weights">(B, F) attention weights averaged over heads.</param>
    public Tensor Forward(Tensor own, Tensor table, IReadOnlyList<int[]> neighbours, IReadOnlyList<int[]>? hops, out Tensor weights)
    {
        ArgumentNullException.ThrowIfNull(own);
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(neighbours);
        int b = neighbours.Count, d = Dimension;
        int f = Math.Max(1, neighbours.Count == 0 ? 1 : neighbours.Max(n => n.Length));
        var ids = new int[b * f];
        var hopIds = new int[b * f];
        var mask = new Tensor(b, f);
        for (int r = 0; r < b; r++)
            for (int j = 0; j < neighbours[r].Length; j++)
            {
                ids[r * f + j] = neighbours[r][j];
                hopIds[r * f + j] = hops is null ? 0 : hops[r][j] - 1;
                mask.Data[r * f + j] = 1f;
            }
        var friends = Ops.Embedding(table.Detach(), ids, b, f) + HopEmbedding.Forward(hopIds, b, f); // (B, F, D)
        var q = Ops.Reshape(Query.Forward(own), b, 1, d);
        var attended = Ops.Attention(q, Key.Forward(friends), friends, Heads, mask, out var probs, keepProbabilities: true);
        weights = BehaviourEncoder.HeadMean(probs!, b, f, Heads);
        return Output.Forward(Ops.Reshape(attended, b, d)) + Text.Legacy.BertPooling.MaskedMean(friends, mask);
    }
}

using HierRec.Tensors;
using HierRec.Tensors.Layers;

namespace HierRec.Items;

/// <summary>
/// The dynamic item representation: a candidate's static vector E_i (BERT text plus a learnt id for warm items) refined
/// by cross-attention from the item to the user's recent history and the request context, through a learnt gate:
/// a = Attn(W_q E_i, W_k [H; c], W_v [H; c]), g = σ(W_g [E_i; a] + b_g), S_i = E_i + g ⊙ a. The gate starts almost closed
/// (b_g = −3), so an untrained encoder ranks as the static vectors do. New items with text only have an E_i at once, so
/// they get an S_i too.
/// </summary>
/// <remarks>Concurrent inference in no-grad scopes and eval mode is safe.</remarks>
public sealed class DynamicItemEncoder : Module
{
    /// <summary>Creates the encoder for D-wide vectors and up to <paramref name="maxHistory"/> history items.</summary>
    public DynamicItemEncoder(int dimension, int maxHistory, Rng rng, int heads = 2, int itemFeatures = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(itemFeatures);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxHistory);
        ArgumentNullException.ThrowIfNull(rng);
        if (dimension % heads != 0) throw new ArgumentException($"dimension {dimension} is not divisible by heads {heads}.", nameof(heads));
        Dimension = dimension;
        MaxHistory = maxHistory;
        Heads = heads;
        Query = RegisterModule("query", new Linear(dimension, dimension, rng));
        Key = RegisterModule("key", new Linear(dimension, dimension, rng));
        Value = RegisterModule("value", new Linear(dimension, dimension, rng));
        Position = RegisterModule("position", new Embedding(maxHistory + 1, dimension, rng, 0.01f)); // last slot marks the context token
        Gate = RegisterModule("gate", new Linear(2 * dimension, dimension, rng));
        Gate.Bias!.Data.Fill(-3f);
        ItemFeatureCount = itemFeatures;
        if (itemFeatures > 0) ItemFeatures = RegisterModule("item_features", new Linear(itemFeatures, dimension, rng, initStd: 0.01f));
    }

    /// <summary>Width of the per-candidate dynamic features (0: none).</summary>
    public int ItemFeatureCount { get; }

    /// <summary>The map of the candidates' dynamic features (recent popularity, age) into the item space, or null.</summary>
    public Linear? ItemFeatures { get; }

    /// <summary>D.</summary>
    public int Dimension { get; }

    /// <summary>Most recent history items attended to.</summary>
    public int MaxHistory { get; }

    /// <summary>Attention heads.</summary>
    public int Heads { get; }

    /// <summary>W_q.</summary>
    public Linear Query { get; }

    /// <summary>W_k.</summary>
    public Linear Key { get; }

    /// <summary>W_v.</summary>
    public Linear Value { get; }

    /// <summary>Recency of history positions (0 = most recent); slot <see cref="MaxHistory"/> marks the context.</summary>
    public Embedding Position { get; }

    /// <summary>W_g and b_g.</summary>
    public Linear Gate { get; }

    /// <summary>Refines candidates.</summary>
    /// <param name="candidates">(B, N, D) static vectors of each request's candidates.</param>
    /// <param name="items">(items, D) static vectors of every item (for the histories); a constant.</param>
    /// <param name="histories">Per request, the user's item indices most recent first (cut to <see cref="MaxHistory"/>).</param>
    /// <param name="context">(B, D) context vectors, or null to attend to the history alone.</param>
    /// <returns>(B, N, D) dynamic vectors S.</returns>
    public Tensor Forward(Tensor candidates, Tensor items, IReadOnlyList<int[]> histories, Tensor? context) =>
        Forward(candidates, items, histories, context, out _);

    /// <summary>
    /// As <see cref="Forward(Tensor, Tensor, IReadOnlyList{int[]}, Tensor?)"/>, first adding the map of each candidate's
    /// dynamic features <paramref name="candidateFeatures"/> (B, N, F) to its static vector.
    /// </summary>
    public Tensor Forward(Tensor candidates, Tensor items, IReadOnlyList<int[]> histories, Tensor? context, Tensor? candidateFeatures, out Tensor? weights)
    {
        if (candidateFeatures is not null)
        {
            var map = ItemFeatures ?? throw new InvalidOperationException("This encoder was built without item features.");
            candidates = candidates + map.Forward(candidateFeatures);
        }
        return Forward(candidates, items, histories, context, out weights);
    }

    /// <summary>
    /// As <see cref="Forward(Tensor, Tensor, IReadOnlyList{int[]}, Tensor?)"/>, also returning the (B, N, T') attention
    /// weights averaged over heads (T' = history slots, then the context slot when there is a context), or null when there
    /// was nothing to attend to.
    /// </summary>
    public Tensor Forward(Tensor candidates, Tensor items, IReadOnlyList<int[]> histories, Tensor? context, out Tensor? weights)
    {
        weights = null;
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(histories);
        int b = candidates.Dim(0), n = candidates.Dim(1), d = Dimension;
        if (candidates.Rank != 3 || d != candidates.Dim(2) || histories.Count != b)
            throw new ArgumentException($"Candidates {Tensor.ShapeString(candidates.Shape)} must be (B, N, {d}) with one history per request ({histories.Count}).");
        int t = Math.Max(1, histories.Max(h => Math.Min(h.Length, MaxHistory)));
        int slots = t + (context is null ? 0 : 1);
        var ids = new int[b * t];
        var positions = new int[b * slots];
        var mask = new Tensor(b, slots);
        for (int r = 0; r < b; r++)
        {
            var h = histories[r];
            for (int j = 0; j < Math.Min(h.Length, MaxHistory); j++)
            {
                ids[r * t + j] = h[j];
                positions[r * slots + j] = j;
                mask.Data[r * slots + j] = 1f;
            }
            if (context is not null)
            {
                positions[r * slots + t] = MaxHistory;
                mask.Data[r * slots + t] = 1f;
            }
        }
        var keys = Ops.Embedding(items.Detach(), ids, b, t);                                      // (B, T, D)
        if (context is not null) keys = Ops.Concat([keys, Ops.Reshape(context, b, 1, d)], 1);     // (B, T+1, D)
        keys = keys + Position.Forward(positions, b, slots);
        bool any = false;
        for (int r = 0; r < b && !any; r++) any = mask.Data.Slice(r * slots, slots).IndexOfAnyExcept(0f) >= 0;
        if (!any) return candidates; // nothing to attend to: the static vectors
        var a = Ops.Attention(Query.Forward(candidates), Key.Forward(keys), Value.Forward(keys), Heads, mask, out var probs, keepProbabilities: true); // (B, N, D)
        weights = HeadMean(probs!, b, n, slots, Heads);
        var g = Ops.Sigmoid(Gate.Forward(Ops.Concat([candidates, a], 2)));
        return candidates + g * a;
    }

    /// <summary>(B, heads, N, T) attention probabilities → (B, N, T) averaged over heads.</summary>
    internal static Tensor HeadMean(Tensor probabilities, int b, int n, int t, int heads)
    {
        var w = new Tensor(b, n, t);
        var p = probabilities.Data; // (B, heads, N, T)
        for (int r = 0; r < b; r++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < n; i++)
                    for (int j = 0; j < t; j++) w.Data[(r * n + i) * t + j] += p[((r * heads + h) * n + i) * t + j] / heads;
        return w;
    }

    /// <summary>r = ⟨u, S_i⟩ for each request's candidates: users (B, D), dynamic (B, N, D) → (B, N).</summary>
    public static Tensor Score(Tensor users, Tensor dynamic)
    {
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(dynamic);
        int b = dynamic.Dim(0), n = dynamic.Dim(1), d = dynamic.Dim(2);
        return Ops.Reshape(Ops.MatMul(dynamic, Ops.Reshape(users, b, d, 1)), b, n);
    }
}

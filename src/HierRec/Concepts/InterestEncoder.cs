using HierRec.Tensors;
using HierRec.Tensors.Layers;

namespace HierRec.Concepts;

/// <summary>
/// The self-supervised behaviour interest I_u: attention pooling over the (fixed) vectors of a user's history items with
/// a recency embedding, plus their mean, refined by a residual MLP. It is trained without labels (see
/// <see cref="ConceptTrainer"/>): two augmented views of one history must agree (InfoNCE) and each view must retrieve
/// an item hidden from it, so I_u lives in the item space and sim(I_u, P_i) scores items.
/// </summary>
/// <remarks>Concurrent inference in no-grad scopes and eval mode is safe.</remarks>
public sealed class InterestEncoder : Module
{
    private Tensor? _items;

    /// <summary>Creates the encoder over item vectors of width <paramref name="dimension"/>.</summary>
    public InterestEncoder(int dimension, int maxHistory, Rng rng)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxHistory);
        ArgumentNullException.ThrowIfNull(rng);
        Dimension = dimension;
        MaxHistory = maxHistory;
        Recency = RegisterModule("recency", new Embedding(maxHistory, dimension, rng, 0.01f));
        Key = RegisterModule("key", new Linear(dimension, dimension, rng));
        Query = RegisterParameter("query", Tensor.RandomNormal(rng, 0.1f, dimension)); // (D)
        Hidden = RegisterModule("hidden", new Linear(dimension, 2 * dimension, rng));
        Final = RegisterModule("final", new Linear(2 * dimension, dimension, rng));
    }

    /// <summary>D.</summary>
    public int Dimension { get; }

    /// <summary>Longest history read (most recent items).</summary>
    public int MaxHistory { get; }

    /// <summary>Recency embedding (position 0 = most recent).</summary>
    public Embedding Recency { get; }

    /// <summary>Key projection of the attention pooling.</summary>
    public Linear Key { get; }

    /// <summary>The pooling's learnt query (D).</summary>
    public Tensor Query { get; }

    /// <summary>First layer of the residual MLP.</summary>
    public Linear Hidden { get; }

    /// <summary>Second layer of the residual MLP.</summary>
    public Linear Final { get; }

    /// <summary>The item vectors <see cref="Encode"/> reads (items, D); set before calling it.</summary>
    public Tensor? Items
    {
        get => _items;
        set
        {
            if (value is not null && (value.Rank != 2 || value.Dim(1) != Dimension))
                throw new ArgumentException($"Item vectors must be (items, {Dimension}); got {Tensor.ShapeString(value.Shape)}.", nameof(value));
            _items = value;
        }
    }

    /// <summary>Encodes histories (item indices, most recent first) against <see cref="Items"/>.</summary>
    public Tensor Encode(IReadOnlyList<int[]> inputs) =>
        Forward(Items ?? throw new InvalidOperationException("Set InterestEncoder.Items before encoding."), inputs);

    /// <summary>Encodes histories against <paramref name="items"/> (a constant: no gradient flows into it).</summary>
    public Tensor Forward(Tensor items, IReadOnlyList<int[]> histories)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(histories);
        int b = histories.Count, d = Dimension, n = items.Dim(0);
        int t = Math.Max(1, b == 0 ? 1 : histories.Max(h => Math.Min(h.Length, MaxHistory)));
        var ids = new int[b * t];
        var positions = new int[b * t];
        var mask = new Tensor(b, t);
        for (int r = 0; r < b; r++)
        {
            var h = histories[r];
            for (int j = 0; j < Math.Min(h.Length, MaxHistory); j++)
            {
                if ((uint)h[j] >= (uint)n) throw new ArgumentOutOfRangeException(nameof(histories), h[j], $"History {r} names item {h[j]}; there are {n} items.");
                ids[r * t + j] = h[j];
                positions[r * t + j] = j;
                mask.Data[r * t + j] = 1f;
            }
        }
        var hist = Ops.Embedding(items.Detach(), ids, b, t) + Recency.Forward(positions, b, t); // (B, T, D)
        var q = Tensor.Zeros(b, 1, d) + Query;
        var attended = Ops.Reshape(Ops.Attention(q, Ops.Tanh(Key.Forward(hist)), hist, 1, mask), b, d);
        var z = attended + Text.Legacy.BertPooling.MaskedMean(hist, mask);
        return z + Final.Forward(Ops.Tanh(Hidden.Forward(z)));
    }
}

/// <summary>The augmentations that make two views of one history for contrastive learning (as in CL4SRec).</summary>
public static class HistoryAugmentation
{
    /// <summary>Drops each item with probability <paramref name="share"/> (keeping at least one).</summary>
    public static int[] Mask(int[] history, double share, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(rng);
        if (history.Length <= 1) return [.. history];
        var kept = history.Where(_ => rng.NextDouble() >= share).ToArray();
        return kept.Length > 0 ? kept : [history[rng.NextInt(history.Length)]];
    }

    /// <summary>A random contiguous window of ⌈share · n⌉ items.</summary>
    public static int[] Crop(int[] history, double share, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(rng);
        int len = Math.Clamp((int)Math.Ceiling(share * history.Length), 1, Math.Max(1, history.Length));
        if (history.Length <= len) return [.. history];
        int start = rng.NextInt(history.Length - len + 1);
        return history[start..(start + len)];
    }

    /// <summary>Shuffles a random contiguous window of ⌈share · n⌉ items.</summary>
    public static int[] Reorder(int[] history, double share, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(rng);
        var copy = history.ToArray();
        int len = Math.Clamp((int)Math.Ceiling(share * copy.Length), 1, Math.Max(1, copy.Length));
        if (copy.Length < 2 || len < 2) return copy;
        int start = rng.NextInt(copy.Length - len + 1);
        rng.Shuffle(copy.AsSpan(start, len));
        return copy;
    }

    /// <summary>One of the three augmentations, drawn uniformly.</summary>
    public static int[] Random(int[] history, Rng rng, double maskShare = 0.3, double cropShare = 0.6, double reorderShare = 0.3) => rng.NextInt(3) switch
    {
        0 => Mask(history, maskShare, rng),
        1 => Crop(history, cropShare, rng),
        _ => Reorder(history, reorderShare, rng),
    };
}

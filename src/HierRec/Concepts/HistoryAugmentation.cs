
namespace HierRec.Concepts;

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

using TorchSharp;
using static TorchSharp.torch;

namespace HierRec.Modules;

/// <summary>
/// Ragged lists (histories, neighbourhoods, token ids) packed into a padded (B, T) id tensor and a (B, T) 0/1 mask: the
/// one place lists become padded batches. Lists longer than the cap keep their first entries (the most recent, for
/// histories). Rows are at least one wide, so an empty list gives a row with mask 0.
/// </summary>
public sealed class RaggedBatch : IDisposable
{
    private RaggedBatch(Tensor ids, Tensor mask, Tensor? extra, int[] lengths)
    {
        Ids = ids;
        Mask = mask;
        Extra = extra;
        Lengths = lengths;
    }

    /// <summary>(B, T) int64 ids, padding 0.</summary>
    public Tensor Ids { get; }

    /// <summary>(B, T) float mask, 1 for entries, 0 for padding.</summary>
    public Tensor Mask { get; }

    /// <summary>(B, T) int64 side values aligned with the ids (hops, token types), or null.</summary>
    public Tensor? Extra { get; }

    /// <summary>Entries per row after the cap.</summary>
    public int[] Lengths { get; }

    /// <summary>T, the padded width.</summary>
    public long Width => Ids.shape[1];

    /// <summary>Packs <paramref name="lists"/>, each cut to <paramref name="maxLength"/>.</summary>
    /// <param name="lists">The rows.</param>
    /// <param name="maxLength">Longest row kept.</param>
    /// <param name="device">Where the tensors go.</param>
    /// <param name="extra">Per row, a side value per entry (same lengths as <paramref name="lists"/>), or null.</param>
    /// <param name="extraOffset">Added to every side value (e.g. −1 to map hops 1, 2 to 0, 1).</param>
    /// <param name="idLimit">Ids must be in [0, idLimit); checked, naming the row.</param>
    /// <param name="what">What the ids are, for errors.</param>
    public static RaggedBatch Pack(IReadOnlyList<int[]> lists, int maxLength, Device device, IReadOnlyList<int[]>? extra = null, int extraOffset = 0,
        int idLimit = int.MaxValue, string what = "id")
    {
        ArgumentNullException.ThrowIfNull(lists);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxLength);
        int b = lists.Count;
        var lengths = new int[b];
        int t = 1;
        for (int r = 0; r < b; r++)
        {
            var row = lists[r] ?? throw new ArgumentException($"Row {r} is null.", nameof(lists));
            lengths[r] = Math.Min(row.Length, maxLength);
            t = Math.Max(t, lengths[r]);
            if (extra is not null && (extra[r] is null || extra[r].Length < lengths[r]))
                throw new ArgumentException($"Row {r} has {row.Length} {what}s but {extra[r]?.Length ?? 0} side values.", nameof(extra));
        }
        var ids = new long[b * t];
        var mask = new float[b * t];
        var side = extra is null ? null : new long[b * t];
        var padded = PadRows(lists, t, 0);
        for (int r = 0; r < b; r++)
            for (int j = 0; j < lengths[r]; j++)
            {
                int id = padded[r * t + j];
                if ((uint)id >= (uint)idLimit) throw new ArgumentOutOfRangeException(nameof(lists), id, $"Row {r}, entry {j}: {what} {id} is outside [0, {idLimit}).");
                ids[r * t + j] = id;
                mask[r * t + j] = 1f;
                if (side is not null) side[r * t + j] = extra![r][j] + extraOffset;
            }
        return new RaggedBatch(torch.tensor(ids, [b, t], device: device), torch.tensor(mask, [b, t], device: device),
            side is null ? null : torch.tensor(side, [b, t], device: device), lengths);
    }

    /// <summary>
    /// Rows laid out row-major at a common <paramref name="width"/>, each cut to the width and padded with
    /// <paramref name="pad"/>: the one padding routine of HierRec's batches (token ids, token types and masks of
    /// <c>BertBatch</c>, and the ids of <see cref="Pack"/>).
    /// </summary>
    public static T[] PadRows<T>(IReadOnlyList<T[]> rows, int width, T pad)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(width);
        var result = new T[checked(rows.Count * width)];
        result.AsSpan().Fill(pad);
        for (int r = 0; r < rows.Count; r++)
        {
            var row = rows[r] ?? throw new ArgumentException($"Row {r} is null.", nameof(rows));
            row.AsSpan(0, Math.Min(row.Length, width)).CopyTo(result.AsSpan(r * width, width));
        }
        return result;
    }

    /// <summary>Disposes the tensors.</summary>
    public void Dispose()
    {
        Ids.Dispose();
        Mask.Dispose();
        Extra?.Dispose();
    }
}

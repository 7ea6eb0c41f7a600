namespace HierRec.Text;

/// <summary>A padded batch of token ids for <see cref="BertModel"/>: row-major (batch, length) arrays.</summary>
public sealed class BertBatch
{
    /// <summary>Creates a batch; every array holds batchSize × length values.</summary>
    /// <exception cref="ArgumentException">An array has the wrong length, or a mask value is not 0 or 1.</exception>
    public BertBatch(int[] inputIds, int[]? tokenTypeIds, int[]? attentionMask, int batchSize, int length)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        ArgumentOutOfRangeException.ThrowIfNegative(batchSize);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        int n = checked(batchSize * length);
        if (inputIds.Length != n) throw new ArgumentException($"inputIds has {inputIds.Length} values; batch {batchSize} × length {length} needs {n}.", nameof(inputIds));
        if (tokenTypeIds is not null && tokenTypeIds.Length != n) throw new ArgumentException($"tokenTypeIds has {tokenTypeIds.Length} values; {n} needed.", nameof(tokenTypeIds));
        if (attentionMask is not null && attentionMask.Length != n) throw new ArgumentException($"attentionMask has {attentionMask.Length} values; {n} needed.", nameof(attentionMask));
        if (attentionMask is not null)
        {
            for (int i = 0; i < n; i++)
                if (attentionMask[i] is not (0 or 1)) throw new ArgumentException($"attentionMask[{i / Math.Max(1, length)}, {i % Math.Max(1, length)}] is {attentionMask[i]}; only 0 and 1 are allowed.", nameof(attentionMask));
        }
        InputIds = inputIds;
        TokenTypeIds = tokenTypeIds ?? new int[n];
        AttentionMask = attentionMask ?? Enumerable.Repeat(1, n).ToArray();
        BatchSize = batchSize;
        Length = length;
    }

    /// <summary>Stacks encodings, padding each to the longest with <paramref name="padId"/>.</summary>
    public static BertBatch FromEncodings(IReadOnlyList<TokenizedText> encodings, int padId = 0)
    {
        ArgumentNullException.ThrowIfNull(encodings);
        int length = encodings.Count == 0 ? 0 : encodings.Max(e => e.Ids.Length);
        int b = encodings.Count;
        var ids = HierRec.Modules.RaggedBatch.PadRows(encodings.Select(e => e.Ids).ToArray(), length, padId);
        var types = HierRec.Modules.RaggedBatch.PadRows(encodings.Select(e => e.TypeIds).ToArray(), length, 0);
        var mask = HierRec.Modules.RaggedBatch.PadRows(encodings.Select(e => e.AttentionMask).ToArray(), length, 0);
        return new BertBatch(ids, types, mask, b, length);
    }

    /// <summary>(batch, length) token ids.</summary>
    public int[] InputIds { get; }

    /// <summary>(batch, length) segment ids (zeros when not given).</summary>
    public int[] TokenTypeIds { get; }

    /// <summary>(batch, length) 1 for real tokens, 0 for padding (all ones when not given).</summary>
    public int[] AttentionMask { get; }

    /// <summary>Rows.</summary>
    public int BatchSize { get; }

    /// <summary>Tokens per row, padding included.</summary>
    public int Length { get; }
}

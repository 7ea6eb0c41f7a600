using HierRec.Ranking;
using TorchSharp;
using static TorchSharp.torch;

namespace HierRec;

/// <summary>Conveniences over <see cref="IEncoder{TInput}"/>: single inputs, large batches and ranker indexes, as plain floats.</summary>
public static class EncoderExtensions
{
    /// <summary>Encodes one input without recording gradients.</summary>
    public static float[] EncodeOne<TInput>(this IEncoder<TInput> encoder, TInput input) => encoder.EncodeAll([input])[0];

    /// <summary>
    /// Encodes many inputs in batches of <paramref name="batchSize"/> without recording gradients; row i of the result is
    /// inputs[i], Dimension floats.
    /// </summary>
    /// <exception cref="InvalidOperationException">The encoder broke its contract (a batch of the wrong shape).</exception>
    public static float[][] EncodeAll<TInput>(this IEncoder<TInput> encoder, IReadOnlyList<TInput> inputs, int batchSize = 256)
    {
        var rows = new float[inputs?.Count ?? 0][];
        Encode(encoder, inputs!, batchSize, (i, row) => rows[i] = row.ToArray());
        return rows;
    }

    /// <summary>Builds a ranker index of the encoded <paramref name="items"/> (encoded in batches without gradients).</summary>
    public static ItemIndex BuildIndex<TItem>(this IEncoder<TItem> encoder, IReadOnlyList<TItem> items, int batchSize = 256,
        VectorPrecision precision = VectorPrecision.Float32, Similarity similarity = Similarity.DotProduct)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(items);
        int d = encoder.Dimension;
        var all = new float[checked(items.Count * d)];
        Encode(encoder, items, batchSize, (i, row) => row.CopyTo(all.AsSpan(i * d, d)));
        return ItemIndex.Create(all, items.Count, d, precision, similarity);
    }

    private delegate void RowSink(int index, ReadOnlySpan<float> row);

    private static void Encode<TInput>(IEncoder<TInput> encoder, IReadOnlyList<TInput> inputs, int batchSize, RowSink sink)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        int d = encoder.Dimension;
        using var noGrad = torch.no_grad();
        for (int s = 0; s < inputs.Count; s += batchSize)
        {
            int n = Math.Min(batchSize, inputs.Count - s);
            using var scope = torch.NewDisposeScope();
            var chunk = encoder.Encode(inputs.Skip(s).Take(n).ToArray());
            if (chunk.dim() != 2 || chunk.shape[0] != n || chunk.shape[1] != d)
                throw new InvalidOperationException($"{encoder.GetType().Name}.Encode returned {TorchInterop.ShapeString(chunk.shape)} for {n} inputs; expected ({n}, {d}).");
            var values = TorchInterop.ToFloats(chunk);
            for (int r = 0; r < n; r++) sink(s + r, values.AsSpan(r * d, d));
        }
    }
}

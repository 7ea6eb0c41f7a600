namespace HierRec.Tensors.Kernels;

/// <summary>Row gather from an embedding table and its gradient, a scatter-add.</summary>
public static class EmbeddingKernel
{
    /// <summary>destination[i, :] = table[ids[i], :] for a table of <paramref name="dim"/> columns.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is negative or not below the table's row count.</exception>
    public static void Gather(ReadOnlySpan<float> table, int dim, ReadOnlySpan<int> ids, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dim);
        int rows = table.Length / dim;
        if (destination.Length != ids.Length * dim)
        {
            throw new ArgumentException($"Destination has {destination.Length} elements; {ids.Length} ids × {dim} need {ids.Length * dim}.", nameof(destination));
        }
        for (int i = 0; i < ids.Length; i++)
        {
            int id = ids[i];
            if ((uint)id >= (uint)rows)
            {
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"Id {id} at position {i} is outside the embedding table's {rows} rows.");
            }
            table.Slice(id * dim, dim).CopyTo(destination.Slice(i * dim, dim));
        }
    }

    /// <summary>gradTable[ids[i], :] += gradOut[i, :]; repeated ids accumulate.</summary>
    public static void ScatterAdd(ReadOnlySpan<float> gradOut, ReadOnlySpan<int> ids, int dim, Span<float> gradTable)
    {
        for (int i = 0; i < ids.Length; i++)
        {
            var dst = gradTable.Slice(ids[i] * dim, dim);
            System.Numerics.Tensors.TensorPrimitives.Add(dst, gradOut.Slice(i * dim, dim), dst);
        }
    }
}

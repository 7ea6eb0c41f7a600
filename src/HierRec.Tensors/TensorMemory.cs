namespace HierRec.Tensors;

/// <summary>
/// A pool of float buffers for memory whose lifetime the engine knows: gradients of intermediate tensors, which
/// backward drops as soon as their node has used them, and scratch buffers inside backward functions. Reusing them
/// avoids allocating (and page-faulting) hundreds of megabytes of large-object-heap arrays per training step.
/// </summary>
/// <remarks>
/// Buffers are kept per exact length (training loops repeat the same shapes), up to <see cref="PoolLimitBytes"/> in
/// total. Thread-safe. Tensors handed to user code (outputs, parameter gradients) never come from the pool.
/// </remarks>
public static class TensorMemory
{
    private static readonly Dictionary<int, Stack<float[]>> s_free = [];
    private static readonly object s_lock = new();
    private static long s_pooledBytes;

    /// <summary>Largest total size of idle pooled buffers, in bytes. Default 512 MiB; 0 disables pooling.</summary>
    public static long PoolLimitBytes { get; set; } = 512L << 20;

    /// <summary>Bytes currently held idle in the pool.</summary>
    public static long PooledBytes
    {
        get { lock (s_lock) return s_pooledBytes; }
    }

    /// <summary>Releases every idle buffer.</summary>
    public static void Trim()
    {
        lock (s_lock)
        {
            s_free.Clear();
            s_pooledBytes = 0;
        }
    }

    /// <summary>A buffer of exactly <paramref name="length"/> floats, zeroed when <paramref name="clear"/>.</summary>
    internal static float[] Rent(int length, bool clear = true)
    {
        if (length < 1024) return new float[length]; // small arrays: the GC's gen0 is cheaper than the lock
        float[]? buffer = null;
        lock (s_lock)
        {
            if (s_free.TryGetValue(length, out var stack) && stack.Count > 0)
            {
                buffer = stack.Pop();
                s_pooledBytes -= 4L * length;
            }
        }
        if (buffer is null) return GC.AllocateUninitializedArray<float>(length) is var fresh && clear ? Cleared(fresh) : fresh;
        if (clear) Array.Clear(buffer);
        return buffer;
    }

    private static float[] Cleared(float[] a)
    {
        Array.Clear(a);
        return a;
    }

    /// <summary>Gives a buffer back; the caller must not use it afterwards.</summary>
    internal static void Return(float[] buffer)
    {
        if (buffer.Length < 1024) return;
        lock (s_lock)
        {
            if (s_pooledBytes + 4L * buffer.Length > PoolLimitBytes) return;
            if (!s_free.TryGetValue(buffer.Length, out var stack)) s_free[buffer.Length] = stack = new Stack<float[]>();
            stack.Push(buffer);
            s_pooledBytes += 4L * buffer.Length;
        }
    }
}

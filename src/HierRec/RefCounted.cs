namespace HierRec;

/// <summary>
/// A disposable value shared by an owner and any number of readers, disposed when the last of them lets go: the owner
/// holds it from construction, each reader takes a hold for as long as it uses the value, and once the owner has
/// released it (say, a newer version replaced it) the last reader's release disposes it. libtorch's memory is not the
/// GC's, so a model replaced while requests still use it is freed this way rather than left to the finalizer.
/// Thread-safe.
/// </summary>
/// <typeparam name="T">The shared value (a recommender, a snapshot of trained layers).</typeparam>
public sealed class RefCounted<T> where T : IDisposable
{
    private int _holds = 1; // the owner's
    private int _ownerReleased;

    /// <summary>Shares <paramref name="value"/>, with the owner's hold taken.</summary>
    public RefCounted(T value)
    {
        ArgumentNullException.ThrowIfNull(value);
        Value = value;
    }

    /// <summary>The shared value (valid while a hold is held).</summary>
    public T Value { get; }

    /// <summary>Whether the last hold has been released and the value disposed.</summary>
    public bool IsDisposed => Volatile.Read(ref _holds) == 0;

    /// <summary>Called once, right after the value has been disposed.</summary>
    public Action? Disposed { get; set; }

    /// <summary>Takes a reader's hold; false when the value has already been disposed (read the owner's current one again).</summary>
    public bool TryHold()
    {
        int holds;
        do
        {
            holds = Volatile.Read(ref _holds);
            if (holds == 0) return false;
        }
        while (Interlocked.CompareExchange(ref _holds, holds + 1, holds) != holds);
        return true;
    }

    /// <summary>Ends a reader's hold (one per successful <see cref="TryHold"/>); the last hold's release disposes the value.</summary>
    public void Release()
    {
        int holds = Interlocked.Decrement(ref _holds);
        if (holds > 0) return;
        if (holds < 0) throw new InvalidOperationException("Released more often than held.");
        Value.Dispose();
        Disposed?.Invoke();
    }

    /// <summary>Ends the owner's hold; only the first call counts (so a timer and a shutdown may both ask).</summary>
    public void ReleaseOwner()
    {
        if (Interlocked.Exchange(ref _ownerReleased, 1) == 0) Release();
    }
}

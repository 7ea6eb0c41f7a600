namespace HierRec.Items;

public sealed partial class DynamicRecommender : IDisposable
{
    private int _disposed;
    private bool _ownsBase;

    /// <summary>Whether <see cref="Dispose"/> has run.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>
    /// Frees the native (libtorch) memory of the dynamic layers: the snapshot in service is disposed once the last request
    /// reading it has finished. The base recommender is disposed too when this recommender loaded it
    /// (<see cref="Load"/>); one passed to <see cref="Fit"/> stays the caller's. Idempotent; waits for a running
    /// <see cref="Update"/>. Afterwards serving, scoring, explaining, updating, observing and saving throw
    /// <see cref="ObjectDisposedException"/>. Requests still running keep the dynamic layers they hold until they finish;
    /// a base recommender this one loaded is disposed at once, so with one, call it when no request is running (as
    /// <see cref="HierarchicalRecommender.Dispose"/> asks).
    /// </summary>
    public void Dispose()
    {
        lock (_writeLock)
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            _snapshot.Holds.ReleaseOwner();
        }
        if (_ownsBase) _base.Dispose();
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(IsDisposed, this);
}

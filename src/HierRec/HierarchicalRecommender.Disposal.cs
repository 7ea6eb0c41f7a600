namespace HierRec;

public sealed partial class HierarchicalRecommender : IDisposable
{
    private int _disposed;

    /// <summary>Whether <see cref="Dispose"/> has run.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>
    /// Frees the native (libtorch) memory of the recommender's modules and tensors: the model, its item-text BERT (a
    /// BERT passed in <see cref="RecommenderOptions.Bert"/> included: it became part of the model), the concept model
    /// (at once, or when the last <see cref="HoldConcepts"/> on it ends) and the sequential dimension. The GC does not free a
    /// libtorch module's memory when the recommender is merely dropped (measured: a reloaded, dropped recommender kept
    /// about a quarter of its size in native memory for good; see benchmarks/README.md), so a service that replaces
    /// recommenders disposes the old ones
    /// (<c>RecommenderPool</c> does, once the requests holding them end). Idempotent. Not thread-safe with serving:
    /// call it when no request uses the recommender any more; afterwards every method that needs the model throws
    /// <see cref="ObjectDisposedException"/>.
    /// </summary>
    public void Dispose() => DisposeParts(disposeBert: true);

    /// <summary>As <see cref="Dispose()"/>; with <paramref name="disposeBert"/> false the item-text BERT is left alive (a failed fit's, given by its caller).</summary>
    private void DisposeParts(bool disposeBert)
    {
        lock (_conceptSwap) // a FitConcepts finishing now either sees the flag or has published its model
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        }
        _concepts?.ReleaseOwner(); // freed now, or when the last request holding it ends
        _fusion?.Sequential?.Dispose();
        _itemVectors.Dispose();
        _model.Dispose();
        if (disposeBert) Bert?.Dispose(); // a child of the model when it reads text (disposing twice is harmless)
        _index.Dispose();
        if (!ReferenceEquals(_served, _index)) _served.Dispose();
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(IsDisposed, this);
}

namespace HierRec.Concepts;

/// <summary>
/// A hold on the concept model a recommender serves (<see cref="HierarchicalRecommender.HoldConcepts"/>): while it is
/// held, a <see cref="HierarchicalRecommender.FitConcepts"/> that replaces the model does not free it, so one request
/// reads one model from start to end. Dispose it when done; the model is freed when the recommender no longer serves it
/// and the last hold on it ends. Disposing twice is harmless.
/// </summary>
public sealed class ConceptHold : IDisposable
{
    private readonly RefCounted<ConceptModel> _shared;
    private int _released;

    internal ConceptHold(RefCounted<ConceptModel> shared) => _shared = shared;

    /// <summary>The concept model held.</summary>
    public ConceptModel Model => Volatile.Read(ref _released) == 0 ? _shared.Value : throw new ObjectDisposedException(nameof(ConceptHold));

    /// <summary>Ends the hold.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0) _shared.Release();
    }
}

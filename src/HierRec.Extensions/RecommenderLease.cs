namespace HierRec.Extensions;

/// <summary>
/// A request's hold on one version of a pooled model (<see cref="RecommenderPool.Rent"/>): <see cref="Recommender"/>
/// stays usable until the lease is disposed, even when a reload swaps in a newer version meanwhile. Dispose it when the
/// request ends (a <c>using</c>); disposing twice is harmless. Not for sharing between requests.
/// </summary>
public sealed class RecommenderLease : IDisposable
{
    private RecommenderPool.Version? _version;

    internal RecommenderLease(RecommenderPool.Version version)
    {
        _version = version;
        Recommender = version.Recommender;
        Info = version.Info;
    }

    /// <summary>The recommender of the held version.</summary>
    public HierarchicalRecommender Recommender { get; }

    /// <summary>What the held version is: its model name, folder and generation.</summary>
    public RecommenderModelInfo Info { get; }

    /// <summary>Ends the hold; the version is disposed when it was replaced and this was its last hold.</summary>
    public void Dispose() => Interlocked.Exchange(ref _version, null)?.Holds.Release();
}

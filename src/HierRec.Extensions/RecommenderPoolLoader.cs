using Microsoft.Extensions.Hosting;

namespace HierRec.Extensions;

/// <summary>
/// Loads the pool's models in the background when the host starts (so the host starts at once and the readiness check
/// reports "loading" meanwhile) and stops watching at shutdown.
/// </summary>
internal sealed class RecommenderPoolLoader(RecommenderPool pool) : IHostedService
{
    private Task? _loading;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _loading = Task.Run(() => pool.LoadAllAsync(CancellationToken.None), CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_loading is not null) await Task.WhenAny(_loading, Task.Delay(Timeout.Infinite, cancellationToken)).ConfigureAwait(false);
        pool.Dispose();
    }

    /// <summary>The first load (for tests and for hosts that want to wait).</summary>
    internal Task Loading => _loading ?? Task.CompletedTask;
}

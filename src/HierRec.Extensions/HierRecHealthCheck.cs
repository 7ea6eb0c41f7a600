using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace HierRec.Extensions;

/// <summary>Readiness: healthy once every configured model is loaded; degraded when a reload failed and an older version serves.</summary>
public sealed class HierRecHealthCheck(RecommenderPool pool) : IHealthCheck
{
    /// <inheritdoc/>
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = pool.Names.ToDictionary(n => n, n => (object)(pool.Info(n) is { } i ? $"generation {i.Generation}, {i.Items} items" + (i.LastError is null ? "" : $", last reload failed: {i.LastError}") : "loading"));
        if (!pool.AllLoaded) return Task.FromResult(HealthCheckResult.Unhealthy("Models are loading.", data: data));
        if (pool.Names.Any(n => pool.Info(n)?.LastError is not null)) return Task.FromResult(HealthCheckResult.Degraded("A reload failed; the previous version serves.", data: data));
        return Task.FromResult(HealthCheckResult.Healthy($"{pool.Names.Count} model(s) loaded.", data));
    }
}

/// <summary>Registration of <see cref="HierRecHealthCheck"/>.</summary>
public static class HierRecHealthChecksBuilderExtensions
{
    /// <summary>Adds the readiness check as "hierrec", tagged "ready".</summary>
    public static IHealthChecksBuilder AddHierRec(this IHealthChecksBuilder builder, string name = "hierrec", params string[] tags) =>
        builder.AddCheck<HierRecHealthCheck>(name, tags: tags.Length == 0 ? ["ready"] : tags);
}

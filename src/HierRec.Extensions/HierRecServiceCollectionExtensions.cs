using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace HierRec.Extensions;

/// <summary>Registration, in the manner of <c>services.AddPredictionEnginePool&lt;,&gt;().FromFile(name, path, watchForChanges)</c>.</summary>
public static class HierRecServiceCollectionExtensions
{
    /// <summary>
    /// Registers the <see cref="RecommenderPool"/> (a singleton), its options (bound from <paramref name="configuration"/>,
    /// usually the "HierRec" section, and validated at start-up) and the hosted service that loads the models and
    /// watches their folders. Add models here or with <see cref="HierRecBuilder.FromFolder"/>.
    /// </summary>
    public static HierRecBuilder AddHierRec(this IServiceCollection services, IConfiguration? configuration = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<HierRecOptions>();
        if (configuration is not null) options.Bind(configuration);
        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<HierRecOptions>, HierRecOptionsValidator>());
        services.TryAddSingleton<RecommenderPool>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, RecommenderPoolLoader>());
        return new HierRecBuilder(services);
    }
}

/// <summary>Adds models to <see cref="HierRecOptions"/>.</summary>
public sealed class HierRecBuilder(IServiceCollection services)
{
    /// <summary>The services.</summary>
    public IServiceCollection Services { get; } = services;

    /// <summary>Serves the recommender saved in <paramref name="path"/> as <paramref name="name"/>, reloading it when saved again if <paramref name="watchForChanges"/>.</summary>
    public HierRecBuilder FromFolder(string name, string path, bool watchForChanges = true)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Services.Configure<HierRecOptions>(o => o.Models[name] = new HierRecModelOptions { Path = path, WatchForChanges = watchForChanges });
        return this;
    }
}

using System.ComponentModel.DataAnnotations;

namespace HierRec.Extensions;

/// <summary>
/// What <see cref="HierRecServiceCollectionExtensions.AddHierRec(Microsoft.Extensions.DependencyInjection.IServiceCollection, Microsoft.Extensions.Configuration.IConfiguration?)"/>
/// serves, usually bound from the "HierRec" configuration section:
/// <code>"HierRec": { "DefaultModel": "movies", "Models": { "movies": { "Path": "/srv/models/movies", "WatchForChanges": true } } }</code>
/// Validated at start-up.
/// </summary>
public sealed class HierRecOptions
{
    /// <summary>The section name: "HierRec".</summary>
    public const string Section = "HierRec";

    /// <summary>Saved recommender folders by model name.</summary>
    public Dictionary<string, HierRecModelOptions> Models { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The model <see cref="RecommenderPool.Get"/> returns without a name; null: the only model, when there is one.</summary>
    public string? DefaultModel { get; set; }

    /// <summary>Quiet time after the last change in a watched folder before it is reloaded. Default 2 s; 0 to 10 min.</summary>
    public TimeSpan ReloadDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a version replaced by a reload stays undisposed for holders of <see cref="RecommenderPool.Get"/>'s plain
    /// reference; leases (<see cref="RecommenderPool.Rent"/>) hold it for as long as they last. Default 30 s; 0 to 1 h.
    /// </summary>
    public TimeSpan RetiredModelDisposeDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Every problem with these options, one message each (empty when valid).</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (Models.Count == 0) problems.Add("HierRec:Models is empty: name at least one saved recommender folder.");
        foreach (var (name, model) in Models)
        {
            if (string.IsNullOrWhiteSpace(name)) problems.Add("HierRec:Models has a model with an empty name.");
            if (model is null || string.IsNullOrWhiteSpace(model.Path)) problems.Add($"HierRec:Models:{name}:Path is required.");
        }
        if (DefaultModel is not null && !Models.ContainsKey(DefaultModel))
            problems.Add($"HierRec:DefaultModel '{DefaultModel}' is not one of the models ({string.Join(", ", Models.Keys)}).");
        if (DefaultModel is null && Models.Count > 1) problems.Add($"HierRec:DefaultModel is required with {Models.Count} models.");
        if (ReloadDelay < TimeSpan.Zero || ReloadDelay > TimeSpan.FromMinutes(10)) problems.Add($"HierRec:ReloadDelay must be in [0, 10 min]; got {ReloadDelay}.");
        if (RetiredModelDisposeDelay < TimeSpan.Zero || RetiredModelDisposeDelay > TimeSpan.FromHours(1))
            problems.Add($"HierRec:RetiredModelDisposeDelay must be in [0, 1 h]; got {RetiredModelDisposeDelay}.");
        return problems;
    }
}

/// <summary>One named model.</summary>
public sealed class HierRecModelOptions
{
    /// <summary>The saved recommender folder (<see cref="HierarchicalRecommender.Save"/>).</summary>
    [Required]
    public string Path { get; set; } = "";

    /// <summary>Reload when the folder is saved again. Default true.</summary>
    public bool WatchForChanges { get; set; } = true;
}

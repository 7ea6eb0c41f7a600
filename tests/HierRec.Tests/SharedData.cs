namespace HierRec.Tests;

/// <summary>Finds the real datasets: $HIERREC_DATA, else ../shared/data beside the repository.</summary>
public static class SharedData
{
    public static string? Folder { get; } = Find();

    public static string Path(params string[] parts) => System.IO.Path.Combine([Folder!, .. parts]);

    private static string? Find()
    {
        var env = Environment.GetEnvironmentVariable("HIERREC_DATA");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(env)) return env;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "HierRec.sln")))
            {
                var candidate = System.IO.Path.GetFullPath(System.IO.Path.Combine(dir.FullName, "..", "shared", "data"));
                return Directory.Exists(candidate) ? candidate : null;
            }
        }
        return null;
    }
}

/// <summary>Finds the real tokenizer files: ../shared/models beside the repository.</summary>
public static class SharedModels
{
    public static string? Folder { get; } = SharedData.Folder is null ? FindBesideRepository() : Path.GetFullPath(Path.Combine(SharedData.Folder, "..", "models"));

    private static string? FindBesideRepository()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "HierRec.sln")))
            {
                var candidate = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "models"));
                return Directory.Exists(candidate) ? candidate : null;
            }
        }
        return null;
    }
}

/// <summary>A theory reported as skipped where ../shared/models is absent.</summary>
public sealed class RealModelsTheoryAttribute : TheoryAttribute
{
    public RealModelsTheoryAttribute()
    {
        if (SharedModels.Folder is null || !Directory.Exists(SharedModels.Folder)) Skip = "skipped: tokenizer files not present (../shared/models)";
    }
}

/// <summary>A fact that is reported as skipped, with the reason, where the real data folder is absent.</summary>
public sealed class RealDataFactAttribute : FactAttribute
{
    public RealDataFactAttribute()
    {
        if (SharedData.Folder is null) Skip = "skipped: data not present (../shared/data or $HIERREC_DATA)";
    }
}

/// <summary>A fact that is reported as skipped, with the reason, where ../shared/models is absent.</summary>
public sealed class RealModelsFactAttribute : FactAttribute
{
    public RealModelsFactAttribute()
    {
        if (SharedModels.Folder is null || !Directory.Exists(SharedModels.Folder)) Skip = "skipped: tokenizer files not present (../shared/models)";
    }
}

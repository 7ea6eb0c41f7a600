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

/// <summary>A fact that is reported as skipped, with the reason, where the real data folder is absent.</summary>
public sealed class RealDataFactAttribute : FactAttribute
{
    public RealDataFactAttribute()
    {
        if (SharedData.Folder is null) Skip = "skipped: data not present (../shared/data or $HIERREC_DATA)";
    }
}

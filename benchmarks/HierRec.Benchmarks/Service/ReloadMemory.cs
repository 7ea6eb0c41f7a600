using System.Globalization;
using System.Runtime.InteropServices;
using HierRec.Extensions;
using Microsoft.Extensions.Options;

namespace HierRec.Benchmarks.Service;

/// <summary>
/// The process's resident memory over many reloads of one saved recommender, three ways, each in a process of its own:
/// "drop" loads and drops each version (as RecommenderPool did before it disposed replaced versions), "dispose" loads and
/// disposes it, "pool" reloads through a RecommenderPool (a lease per request, RetiredModelDisposeDelay 0). Each load
/// serves one Recommend. Growth per reload is measured from reload 20 on, after an aggressive (decommitting) GC and malloc_trim.
/// <c>dotnet run -c Release --project benchmarks/HierRec.Benchmarks -- reload-memory MODEL_FOLDER [reloads]</c>.
/// </summary>
public static class ReloadMemory
{
    private static readonly string[] Modes = ["drop", "dispose", "pool"];

    public static void Run(TextWriter output, string folder, int reloads)
    {
        output.WriteLine($"{folder}, {reloads} reloads per mode; {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}");
        output.WriteLine("| mode | RSS after 20 reloads (MB) | RSS after all (MB) | growth per reload (KB) | gen2 GCs |");
        output.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var mode in Modes)
            output.WriteLine(MemoryMeasurement.RunChild("reload-memory-child", mode, folder, reloads.ToString(CultureInfo.InvariantCulture)));
    }

    /// <summary>One mode, in this process; prints its table row.</summary>
    public static void Child(TextWriter output, string mode, string folder, int reloads)
    {
        if (reloads <= 20) throw new ArgumentOutOfRangeException(nameof(reloads), reloads, "Run more than 20 reloads.");
        long warm = 0;
        if (mode == "pool")
        {
            using var pool = new RecommenderPool(Options.Create(new HierRecOptions
            {
                Models = { ["m"] = new HierRecModelOptions { Path = folder, WatchForChanges = false } },
                RetiredModelDisposeDelay = TimeSpan.Zero,
            }));
            pool.LoadAllAsync().GetAwaiter().GetResult();
            for (int k = 1; k <= reloads; k++)
            {
                if (!pool.ReloadAsync().GetAwaiter().GetResult()) throw new InvalidOperationException($"Reload {k} failed: {pool.Info()?.LastError}");
                using (var lease = pool.Rent()) Serve(lease.Recommender, k);
                if (k == 20) warm = MemoryMeasurement.SettledRss();
            }
        }
        else
        {
            for (int k = 1; k <= reloads; k++)
            {
                var r = HierarchicalRecommender.Load(folder);
                Serve(r, k);
                if (mode == "dispose") r.Dispose();
                else if (mode != "drop") throw new ArgumentException($"Unknown mode '{mode}' (drop, dispose, pool).", nameof(mode));
                if (k == 20) warm = MemoryMeasurement.SettledRss();
            }
        }
        long end = MemoryMeasurement.SettledRss();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {mode} | {warm / 1048576.0:F0} | {end / 1048576.0:F0} | {(end - warm) / 1024.0 / (reloads - 20):F0} | {GC.CollectionCount(2)} |"));
    }

    private static void Serve(HierarchicalRecommender r, int k)
    {
        if (r.Recommend(r.UserIds[k % r.UserIds.Count], 10).Count == 0) throw new InvalidOperationException("An empty list.");
    }
}

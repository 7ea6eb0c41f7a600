using System.Diagnostics;
using HierRec.Baselines;
using HierRec.Data;
using TorchSharp;

namespace HierRec.Benchmarks.Baselines;

/// <summary>
/// The <c>-- ease [data folder]</c> mode: wall time of the EASE fit (Gram matrix, Cholesky, inverse, B) at 1.7k items
/// (MovieLens-100K), 10k items (a synthetic set of 6,000 users × 10,000 items, 50 interactions each) and 17.6k items
/// (Last.fm-2K), each fitted twice with λ = 250, with the process's peak working set.
/// </summary>
public static class EaseTiming
{
    public static void Run(TextWriter output, string? dataFolder)
    {
        output.WriteLine($"TorchSharp {typeof(torch).Assembly.GetName().Version!.ToString(3)}, libtorch {torch.__version__}, {torch.get_num_threads()} threads");
        var sets = new List<(string Name, Func<Dataset> Load)>();
        if (dataFolder is not null) sets.Add(("MovieLens-100K", () => Splits.Deduplicate(Splits.ToImplicit(MovieLens100K.Load(Path.Combine(dataFolder, "ml-100k"))))));
        sets.Add(("synthetic 10k", () => SyntheticDataset.Generate(new SyntheticOptions { Users = 6000, Items = 10000, MeanInteractions = 50 })));
        if (dataFolder is not null) sets.Add(("Last.fm-2K", () => Splits.Deduplicate(Splits.ToImplicit(LastFm2K.Load(Path.Combine(dataFolder, "hetrec2011-lastfm-2k"))))));
        foreach (var (name, load) in sets)
        {
            var data = load();
            var times = new List<double>();
            for (int r = 0; r < 2; r++)
            {
                var sw = Stopwatch.StartNew();
                var ease = new Ease(data, 250);
                times.Add(sw.Elapsed.TotalSeconds);
                GC.KeepAlive(ease);
            }
            using var p = Process.GetCurrentProcess();
            output.WriteLine($"{name}: {data.UserCount} users, {data.ItemCount} items, {data.Interactions.Count} interactions: fit {string.Join(" s, ", times.Select(t => t.ToString("F2")))} s; peak working set so far {p.PeakWorkingSet64 / (1024 * 1024)} MB");
        }
    }
}

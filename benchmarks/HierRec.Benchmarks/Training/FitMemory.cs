using System.Globalization;
using System.Runtime.InteropServices;
using HierRec.Data;
using HierRec.Fusion;
using HierRec.Text;
using HierRec.Training;

namespace HierRec.Benchmarks.Training;

/// <summary>
/// The process's resident memory over many fits, each fit disposed: what a process that refits (or whose fits are
/// cancelled) keeps of each. Two workloads, each in a process of its own, on a small synthetic dataset (200 users, 300
/// items): "fit" is <see cref="HierarchicalRecommender.Fit"/> then <see cref="HierarchicalRecommender.Dispose"/>, the SASRec
/// trained and left out of the fusion (γ_s = 0 its only candidate, as validation chooses where order adds nothing);
/// "cancelled" cancels each fit when its collaborative phase starts. Growth per fit is measured from fit 10 on, after an
/// aggressive (decommitting) GC and malloc_trim. For diagnosis, <c>HIERREC_FITMEM_OFF=collaborative,sequential,friends,text</c>
/// switches parts of the fit off and prints the managed heap and the GC's committed bytes to stderr.
/// <c>dotnet run -c Release --project benchmarks/HierRec.Benchmarks -- fit-memory [fits]</c>.
/// </summary>
public static class FitMemory
{
    private static readonly string[] Modes = ["fit", "cancelled"];

    public static void Run(TextWriter output, int fits) =>
        MemoryMeasurement.RunWorkloads(output, "fit-memory-child", Modes, fits, "fits", "RSS after 10 fits (MB)", "RSS after all (MB)", "growth per fit (KB)", "gen2 GCs");

    /// <summary>One workload, in this process; prints its table row.</summary>
    public static void Child(TextWriter output, string mode, int fits)
    {
        if (fits <= 10) throw new ArgumentOutOfRangeException(nameof(fits), fits, "Run more than 10 fits.");
        if (mode is not ("fit" or "cancelled")) throw new ArgumentException($"Unknown workload '{mode}' (fit, cancelled).", nameof(mode));
        var data = Splits.Deduplicate(Splits.ToImplicit(SyntheticDataset.Generate(new SyntheticOptions { Users = 200, Items = 300 })));
        var split = Splits.RandomRatioPerUser(data, 0.8, 0.1, 0.1, seed: 4);
        var options = new RecommenderOptions
        {
            Model = new HierarchicalOptions { Dimension = 32 },
            Training = new HierarchicalTrainingOptions { Epochs = 3, MinEpochs = 1 },
            DomainBert = new DomainBertOptions { Epochs = 1, VocabularySize = 500, MaxLength = 24 },
            Sequential = new SequentialDimensionOptions { Weights = [0f], Model = new HierRec.Baselines.SequentialOptions { MaxEpochs = 2, MinEpochs = 1 } },
        };
        // Diagnostics: HIERREC_FITMEM_OFF=collaborative,sequential,friends,text switches parts off.
        var off = (Environment.GetEnvironmentVariable("HIERREC_FITMEM_OFF") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries);
        options = options with
        {
            Collaborative = new CollaborativeOptions { Enabled = !off.Contains("collaborative") },
            Sequential = options.Sequential with { Enabled = !off.Contains("sequential") },
            FriendItems = new FriendItemsOptions { Enabled = !off.Contains("friends") },
            Model = options.Model with { UseText = !off.Contains("text") },
        };
        long warm = 0, warmManaged = 0;
        for (int k = 1; k <= fits; k++)
        {
            if (mode == "fit") HierarchicalRecommender.Fit(split.Train, split.Validation, options).Dispose();
            else
            {
                using var cts = new CancellationTokenSource();
                try
                {
                    HierarchicalRecommender.Fit(split.Train, split.Validation, options, new CancelAt("collaborative dimension", cts), cts.Token).Dispose();
                    throw new InvalidOperationException("The fit was not cancelled.");
                }
                catch (OperationCanceledException)
                {
                }
            }
            if (k == 10) (warm, warmManaged) = (MemoryMeasurement.SettledRss(), GC.GetTotalMemory(true));
        }
        long end = MemoryMeasurement.SettledRss();
        long endManaged = GC.GetTotalMemory(true);
        if (Environment.GetEnvironmentVariable("HIERREC_FITMEM_OFF") is not null)
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"managed heap {warmManaged / 1048576.0:F1} → {endManaged / 1048576.0:F1} MB, GC committed {GC.GetGCMemoryInfo().TotalCommittedBytes / 1048576.0:F1} MB, live tensors {TorchSharp.DisposeScopeManager.Statistics.TensorStatistics.ThreadTotalLiveCount}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {mode} | {warm / 1048576.0:F0} | {end / 1048576.0:F0} | {(end - warm) / 1024.0 / (fits - 10):F0} | {GC.CollectionCount(2)} |"));
    }

    private sealed class CancelAt(string phase, CancellationTokenSource cts) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            if (value.Phase == phase) cts.Cancel();
        }
    }
}

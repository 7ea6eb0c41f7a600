using System.Globalization;
using System.Runtime.InteropServices;
using HierRec.Baselines;
using HierRec.Data;
using HierRec.Evaluation;
using HierRec.Training;

namespace HierRec.Benchmarks.Baselines;

/// <summary>
/// The process's resident memory over many evaluations of the libtorch baselines (SASRec, BPR-MF, Mult-VAE), each a
/// full-ranking <see cref="Evaluator.Evaluate"/> of the validation split in batches of 64 users: what a process that
/// evaluates again and again (a grid search, a monitoring job) keeps of each. Two workloads, each in a process of its
/// own, on a small synthetic dataset (200 users, 300 items), the same three fits: "plain" scores as the library does;
/// "regions" wraps every scoring batch in a no-GC region of <see cref="NoCollection"/>'s budget, which is what the
/// models' own scoring did until 2026-12-07. Growth per round (one evaluation of each model) is measured from round 10 on, after an
/// aggressive (decommitting) GC and malloc_trim.
/// <c>dotnet run -c Release --project benchmarks/HierRec.Benchmarks -- evaluate-memory [rounds]</c>.
/// </summary>
public static class EvaluateMemory
{
    private static readonly string[] Modes = ["plain", "regions"];

    public static void Run(TextWriter output, int rounds) =>
        MemoryMeasurement.RunWorkloads(output, "evaluate-memory-child", Modes, rounds, "rounds", "RSS after 10 rounds (MB)", "RSS after all (MB)", "growth per round (KB)", "gen2 GCs", "seconds");

    /// <summary>One workload, in this process; prints its table row.</summary>
    public static void Child(TextWriter output, string mode, int rounds)
    {
        if (rounds <= 10) throw new ArgumentOutOfRangeException(nameof(rounds), rounds, "Run more than 10 rounds.");
        if (mode is not ("plain" or "regions")) throw new ArgumentException($"Unknown workload '{mode}' (plain, regions).", nameof(mode));
        var data = Splits.Deduplicate(Splits.ToImplicit(SyntheticDataset.Generate(new SyntheticOptions { Users = 200, Items = 300 })));
        var split = Splits.RandomRatioPerUser(data, 0.8, 0.1, 0.1, seed: 4);
        using var sasRec = SasRec.Fit(split.Train, split.Validation, new SequentialOptions { MaxEpochs = 2, MinEpochs = 1 });
        using var bpr = BprMf.Fit(split.Train, split.Validation, new BprOptions { MaxEpochs = 2, MinEpochs = 1 });
        using var vae = MultVae.Fit(split.Train, split.Validation, new MultVaeOptions { MaxEpochs = 2, MinEpochs = 1 });
        IScoringModel[] models = [sasRec, bpr, vae];
        if (mode == "regions") models = [.. models.Select(m => new InRegions(m))];
        var evaluator = new Evaluator { BatchSize = 64 };
        long warm = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int k = 1; k <= rounds; k++)
        {
            foreach (var model in models) evaluator.Evaluate(model, split.Validation, split.Train);
            if (k == 10) (warm, clock) = (MemoryMeasurement.SettledRss(), System.Diagnostics.Stopwatch.StartNew());
        }
        double seconds = clock.Elapsed.TotalSeconds;
        long end = MemoryMeasurement.SettledRss();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {mode} | {warm / 1048576.0:F0} | {end / 1048576.0:F0} | {(end - warm) / 1024.0 / (rounds - 10):F0} | {GC.CollectionCount(2)} | {seconds:F1} |"));
    }

    /// <summary>Each scoring batch inside a no-GC region, as the baselines' own scoring opened one until 2026-12-07.</summary>
    private sealed class InRegions(IScoringModel inner) : IScoringModel
    {
        public int ItemCount => inner.ItemCount;

        public int MaxParallelism => inner.MaxParallelism;

        public void ScoreUsers(ReadOnlySpan<int> users, Span<float> scores)
        {
            using var region = ScoringRegion.Open();
            inner.ScoreUsers(users, scores);
        }
    }
}

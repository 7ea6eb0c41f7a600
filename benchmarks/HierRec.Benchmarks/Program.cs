using BenchmarkDotNet.Running;
using HierRec.Benchmarks.Ranking;

namespace HierRec.Benchmarks;

/// <summary>
/// Runs the suites: <c>dotnet run -c Release --project benchmarks/HierRec.Benchmarks -- --filter '*Gemm*'</c>.
/// <c>-- bert-torch [runs]</c> times the BERT-mini inference and training step on TorchSharp (the peer is
/// benchmarks/compare_bert_torch.py; benchmarks/compare_bert.sh runs both).
/// <c>-- hierarchical [data] [seeds]</c> fits the hierarchical model on MovieLens-100K per seed (times, NDCG@10, Recommend latency).
/// <c>-- tokenizer-exactness</c> counts the golden-corpus lines each tokenizer encodes exactly as Hugging Face does.
/// <c>-- pgvector [sizes] [queries]</c> compares ItemIndex with pgvector exact and HNSW (server in HIERREC_PG).
/// <c>-- pgvector-e2e [data]</c> serves the hierarchical model in process and from PostgreSQL candidates (validation NDCG@10).
/// <c>-- load URL MODEL_FOLDER [seconds]</c> load-tests the sample service (concurrency 1, 8, 32).
/// <c>-- reload-memory MODEL_FOLDER [reloads]</c> measures resident memory over reloads: dropped, disposed, and through RecommenderPool.
/// <c>-- fit-memory [fits]</c> measures resident memory over fits that are disposed, and over fits that are cancelled.
/// <c>-- evaluate-memory [rounds]</c> measures resident memory over repeated evaluations of the libtorch baselines.
/// <c>-- fit-peak [hidden] [layers]</c> measures one fit's wall time and peak working set with a domain BERT of that size.
/// <c>-- recall</c> instead measures the recall@100 of the quantised indexes against exact float32 ranking.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "recall")
        {
            RecallMeasurement.Run(Console.Out);
            return 0;
        }
        if (args.Length > 0 && args[0] == "pgvector")
        {
            string connection = Environment.GetEnvironmentVariable("HIERREC_PG")
                ?? throw new InvalidOperationException("Set HIERREC_PG to a PostgreSQL connection string (.ci/postgres.sh start DIR prints one).");
            var sizes = args.Length > 1 ? args[1].Split(',').Select(s => int.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToArray() : [100_000, 1_000_000];
            int queries = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 400;
            HierRec.Benchmarks.Storage.PgVectorMeasurement.Run(Console.Out, connection, sizes, queries).GetAwaiter().GetResult();
            return 0;
        }
        if (args.Length > 0 && args[0] == "pgvector-e2e")
        {
            string connection = Environment.GetEnvironmentVariable("HIERREC_PG")
                ?? throw new InvalidOperationException("Set HIERREC_PG to a PostgreSQL connection string (.ci/postgres.sh start DIR prints one).");
            HierRec.Benchmarks.Storage.PgEndToEnd.Run(Console.Out, connection, args.Length > 1 ? args[1] : null).GetAwaiter().GetResult();
            return 0;
        }
        if (args.Length > 2 && args[0] == "load")
        {
            HierRec.Benchmarks.Service.LoadTest.Run(Console.Out, args[1], args[2], args.Length > 3 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 30).GetAwaiter().GetResult();
            return 0;
        }
        if (MemoryCommand(args, "fit-memory", 60, HierRec.Benchmarks.Training.FitMemory.Run, HierRec.Benchmarks.Training.FitMemory.Child)
            || MemoryCommand(args, "evaluate-memory", 100, HierRec.Benchmarks.Baselines.EvaluateMemory.Run, HierRec.Benchmarks.Baselines.EvaluateMemory.Child))
            return 0;
        if (args.Length > 1 && args[0] == "reload-memory")
        {
            HierRec.Benchmarks.Service.ReloadMemory.Run(Console.Out, args[1], args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 300);
            return 0;
        }
        if (args.Length > 3 && args[0] == "reload-memory-child")
        {
            HierRec.Benchmarks.Service.ReloadMemory.Child(Console.Out, args[1], args[2], int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture));
            return 0;
        }
        if (args.Length > 0 && args[0] == "bert-torch")
        {
            HierRec.Benchmarks.Text.TorchBertWorkload.Run(Console.Out, args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 10);
            return 0;
        }
        if (args.Length > 0 && args[0] == "tokenizer-exactness")
        {
            HierRec.Benchmarks.Text.TokenizerExactness.Run(Console.Out);
            return 0;
        }
        if (args.Length > 0 && args[0] == "ease")
        {
            HierRec.Benchmarks.Baselines.EaseTiming.Run(Console.Out, args.Length > 1 ? args[1] : null);
            return 0;
        }
        if (args.Length > 0 && args[0] == "fit-peak")
        {
            var inv = System.Globalization.CultureInfo.InvariantCulture;
            HierRec.Benchmarks.Training.FitPeak.Run(Console.Out, args.Length > 1 ? int.Parse(args[1], inv) : 256, args.Length > 2 ? int.Parse(args[2], inv) : 4);
            return 0;
        }
        if (args.Length > 0 && args[0] == "hierarchical")
        {
            var seeds = args.Length > 2 ? args[2].Split(',').Select(s => ulong.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToArray() : [1UL];
            HierRec.Benchmarks.Training.HierarchicalTiming.Run(Console.Out, args.Length > 1 ? args[1] : null, seeds);
            return 0;
        }
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
    }

    /// <summary>"name [count]" runs a memory benchmark's workloads, each in a child process started as "name-child mode count".</summary>
    private static bool MemoryCommand(string[] args, string name, int count, Action<TextWriter, int> run, Action<TextWriter, string, int> child)
    {
        if (args.Length > 0 && args[0] == name)
            run(Console.Out, args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : count);
        else if (args.Length > 2 && args[0] == name + "-child")
            child(Console.Out, args[1], int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture));
        else
            return false;
        return true;
    }
}

using System.Diagnostics;
using HierRec.Data;
using HierRec.Evaluation;
using HierRec.Items;
using HierRec.Text;
using HierRec.Training;

namespace HierRec.Benchmarks.Training;

/// <summary>
/// <c>-- hierarchical [data folder] [seeds]</c>: the hierarchical model on MovieLens-100K with RESULTS.md's settings
/// (RecBole split 8:1:1 seed 2020, domain BERT 4 epochs / 3,000 tokens, D = 128, lr 1e-3, batch 32, ≤ 60 epochs,
/// patience 8), once per seed: BERT pre-training and fit wall time, validation and test NDCG@10, the median latency of
/// <c>Recommend(user, 10)</c> on one thread, and the process's peak working set. The same file runs at the last commit
/// before the port (with that commit's namespaces), so the two engines are compared in one shell loop.
/// </summary>
public static class HierarchicalTiming
{
    public static void Run(TextWriter output, string? dataRoot, IReadOnlyList<ulong> seeds)
    {
        string folder = Path.Combine(dataRoot ?? "../shared/data", "ml-100k");
        var data = Splits.Deduplicate(Splits.ToImplicit(MovieLens100K.Load(folder)));
        var split = Splits.RandomRatioPerUser(data, 0.8, 0.1, 0.1, seed: 2020);
        var evaluator = new Evaluator { Ks = [10] };
        var texts = ItemTexts.FromFeatures(split.Train.ItemFeatures);
        output.WriteLine("| seed | BERT s | fit s | best epoch | validation NDCG@10 | test NDCG@10 | Recommend median µs (1 thread) |");
        output.WriteLine("|---:|---:|---:|---:|---:|---:|---:|");
        foreach (ulong seed in seeds)
        {
            var bertOptions = new DomainBertOptions { Epochs = 4, VocabularySize = 3000, Seed = seed };
            var sw = Stopwatch.StartNew();
            var bert = DomainBert.Pretrain(texts, bertOptions, out _);
            double bertSeconds = sw.Elapsed.TotalSeconds;
            sw.Restart();
            var recommender = HierarchicalRecommender.Fit(split.Train, split.Validation, new RecommenderOptions
            {
                Model = new HierarchicalOptions { Dimension = 128 },
                Bert = bert,
                DomainBert = bertOptions,
                Training = new HierarchicalTrainingOptions { Epochs = 60, BatchSize = 32, LearningRate = 1e-3f, Patience = 8, Seed = seed },
                Seed = seed,
            });
            double fitSeconds = sw.Elapsed.TotalSeconds;
            var scoring = new HierarchicalScoringModel(recommender.Model, recommender.Context);
            double validation = evaluator.Evaluate(scoring, split.Validation, split.Train)["ndcg@10"];
            double test = evaluator.Evaluate(scoring, split.Test, split.Train, split.Validation)["ndcg@10"];
            double latency = RecommendLatency(recommender, split.Train);
            output.WriteLine($"| {seed} | {bertSeconds:F1} | {fitSeconds:F1} | {recommender.TrainingReport!.BestEpoch} | {validation:F4} | {test:F4} | {latency:F0} |");
            output.Flush();
        }
        output.WriteLine($"peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1e9:F2} GB");
    }

    /// <summary>Median wall time of one Recommend call over 300 users (after 50 warm-up calls), on one thread.</summary>
    private static double RecommendLatency(HierarchicalRecommender recommender, Dataset train)
    {
        int threads = TorchSharp.torch.get_num_threads();
        TorchSharp.torch.set_num_threads(1);
        try
        {
            var users = Enumerable.Range(0, train.UserCount).Select(train.Users.ToExternal).ToArray();
            for (int i = 0; i < 50; i++) recommender.Recommend(users[i % users.Length], 10);
            var times = new List<double>();
            for (int i = 0; i < 300; i++)
            {
                long start = Stopwatch.GetTimestamp();
                recommender.Recommend(users[(i * 7) % users.Length], 10);
                times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds * 1000);
            }
            times.Sort();
            return times[times.Count / 2];
        }
        finally
        {
            TorchSharp.torch.set_num_threads(threads);
        }
    }
}

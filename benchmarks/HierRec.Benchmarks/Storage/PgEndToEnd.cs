using System.Diagnostics;
using System.Globalization;
using HierRec.Data;
using HierRec.Items;
using HierRec.PostgreSql;
using HierRec.Text;
using HierRec.Training;

namespace HierRec.Benchmarks.Storage;

/// <summary>
/// <c>-- pgvector-e2e [data folder]</c> (server in <c>HIERREC_PG</c>): the hierarchical model served in process
/// (<see cref="HierarchicalRecommender.Recommend(string, int)"/>, an exact scan) and from PostgreSQL (HNSW candidates,
/// the history excluded in SQL, re-ranked by HierRec's exact scores) at several candidate counts and ef_search values,
/// on the synthetic default dataset and on MovieLens-100K (RESULTS.md's split and settings, seed 1). Per setting: the
/// validation NDCG@10 of both paths over the same users, the paired difference with its standard error, the top-10
/// overlap with exact serving, and the median latency of one request (user vectors cached for both paths).
/// </summary>
public static class PgEndToEnd
{
    private static readonly (int Candidates, int EfSearch)[] Settings = [(20, 40), (50, 50), (100, 100), (100, 200), (200, 400)];

    public static async Task Run(TextWriter output, string connectionString, string? dataRoot)
    {
        await using var dataSource = PgItemStore.CreateDataSource(connectionString);
        output.WriteLine("| dataset | serving | candidates | ef_search | validation NDCG@10 | Δ vs exact ± s.e. | top-10 overlap | median ms |");
        output.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|");
        var synthetic = Splits.RandomRatioPerUser(Splits.Deduplicate(Splits.ToImplicit(SyntheticDataset.Generate())), 0.8, 0.1, 0.1, seed: 2020);
        await Compare(output, dataSource, "synthetic", synthetic);
        string folder = Path.Combine(dataRoot ?? "../shared/data", "ml-100k");
        if (Directory.Exists(folder))
            await Compare(output, dataSource, "MovieLens-100K", Splits.RandomRatioPerUser(Splits.Deduplicate(Splits.ToImplicit(MovieLens100K.Load(folder))), 0.8, 0.1, 0.1, seed: 2020));
        else output.WriteLine($"(MovieLens-100K skipped: {folder} is absent)");
    }

    private static async Task Compare(TextWriter output, Npgsql.NpgsqlDataSource dataSource, string name, DataSplit split)
    {
        var bertOptions = new DomainBertOptions { Epochs = 4, VocabularySize = 3000, Seed = 1 };
        var bert = DomainBert.Pretrain(ItemTexts.FromFeatures(split.Train.ItemFeatures), bertOptions, out _);
        var recommender = HierarchicalRecommender.Fit(split.Train, split.Validation, new RecommenderOptions
        {
            Model = new HierarchicalOptions { Dimension = 128 },
            Bert = bert,
            DomainBert = bertOptions,
            Training = new HierarchicalTrainingOptions { Epochs = 60, BatchSize = 32, LearningRate = 1e-3f, Patience = 8, Seed = 1 },
            Seed = 1,
        });
        var relevant = split.Validation.Interactions.GroupBy(x => x.User).ToDictionary(g => split.Validation.Users.ToExternal(g.Key), g => g.Select(x => split.Validation.Items.ToExternal(x.Item)).ToHashSet());
        var users = relevant.Keys.Where(u => split.Train.Users.TryGetDense(u, out _)).OrderBy(u => u, StringComparer.Ordinal).ToArray();

        var store = new PgItemStore(dataSource, "bench_e2e_" + name.ToLowerInvariant().Replace('-', '_'));
        await PgRecommender.PublishAsync(store, recommender, name);

        // Encode every user once first (the recommender caches known users' vectors), so both paths are timed warm.
        foreach (var u in users) recommender.UserVector(u);
        var exactLists = new string[users.Length][];
        var exactTimes = new double[users.Length];
        for (int i = 0; i < users.Length; i++)
        {
            long start = Stopwatch.GetTimestamp();
            exactLists[i] = recommender.Recommend(users[i], 10).Select(r => r.ItemId).ToArray();
            exactTimes[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        var exactNdcg = users.Select((u, i) => Ndcg(exactLists[i], relevant[u])).ToArray();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | in process (exact scan) | all | - | {exactNdcg.Average():F4} | - | 1.000 | {Median(exactTimes):F2} |"));
        foreach (var (candidates, ef) in Settings)
        {
            var pg = new PgRecommender(recommender, store) { Candidates = candidates, EfSearch = ef };
            await pg.RecommendAsync(users[0], 10);
            var times = new double[users.Length];
            var diff = new double[users.Length];
            double ndcg = 0, overlap = 0;
            for (int i = 0; i < users.Length; i++)
            {
                long start = Stopwatch.GetTimestamp();
                var served = (await pg.RecommendAsync(users[i], 10)).Select(r => r.ItemId).ToArray();
                times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                double v = Ndcg(served, relevant[users[i]]);
                ndcg += v;
                diff[i] = v - exactNdcg[i];
                overlap += served.Intersect(exactLists[i]).Count() / 10.0;
            }
            double meanDiff = diff.Average();
            double se = Math.Sqrt(diff.Sum(d => (d - meanDiff) * (d - meanDiff)) / (diff.Length - 1) / diff.Length);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | PostgreSQL HNSW + HierRec re-rank | {candidates} | {ef} | {ndcg / users.Length:F4} | {meanDiff:+0.0000;-0.0000;0.0000} ± {se:F4} | {overlap / users.Length:F3} | {Median(times):F2} |"));
            output.Flush();
        }
        double evaluator = new HierRec.Evaluation.Evaluator { Ks = [10] }.Evaluate(new HierarchicalScoringModel(recommender.Model, recommender.Context), split.Validation, split.Train)["ndcg@10"];
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | ({users.Length} validation users, {recommender.ItemIds.Count} items, D = {recommender.Dimension}, best epoch {recommender.TrainingReport!.BestEpoch}; the Evaluator's NDCG@10 of the model: {evaluator:F4}) | | | | | | |"));
    }

    /// <summary>NDCG@10 with binary relevance, as the Evaluator computes it.</summary>
    private static double Ndcg(string[] ranked, HashSet<string> relevant)
    {
        double dcg = 0, ideal = 0;
        for (int i = 0; i < ranked.Length; i++) if (relevant.Contains(ranked[i])) dcg += 1 / Math.Log2(i + 2);
        for (int i = 0; i < Math.Min(10, relevant.Count); i++) ideal += 1 / Math.Log2(i + 2);
        return ideal > 0 ? dcg / ideal : 0;
    }

    private static double Median(double[] values)
    {
        var sorted = (double[])values.Clone();
        Array.Sort(sorted);
        return sorted[sorted.Length / 2];
    }
}

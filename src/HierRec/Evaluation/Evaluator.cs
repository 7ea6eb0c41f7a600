using System.Text;
using System.Text.Json;
using HierRec.Data;
using HierRec.Ranking;

namespace HierRec.Evaluation;

/// <summary>
/// Full-ranking evaluation as RecBole does it: every item is a candidate except those the user interacted with in
/// training (and, when evaluating on test, in validation); users without target items are skipped.
/// </summary>
/// <remarks>
/// Users are scored in batches on all cores; memory is one batch × items of scores per worker, never the whole
/// users × items matrix.
/// </remarks>
public sealed class Evaluator
{
    /// <summary>Metric cut-offs. Default 10 and 20.</summary>
    public IReadOnlyList<int> Ks { get; init; } = [10, 20];

    /// <summary>Users scored per call to the model. Default 256.</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>Worker threads; 0 means one per core.</summary>
    public int Threads { get; init; }

    /// <summary>Evaluates <paramref name="model"/> on <paramref name="target"/>, excluding every item of the <paramref name="known"/> datasets.</summary>
    public EvaluationResult Evaluate(IScoringModel model, Dataset target, params Dataset[] known)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(target);
        if (Ks.Count == 0) throw new ArgumentException("Evaluator.Ks is empty: give at least one cut-off (e.g. [10]).", nameof(Ks));
        if (Ks.Any(k => k <= 0)) throw new ArgumentOutOfRangeException(nameof(Ks), $"Evaluator.Ks must all be positive; got [{string.Join(", ", Ks)}].");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(BatchSize);
        int itemCount = model.ItemCount;
        if (itemCount != target.ItemCount) throw new ArgumentException($"The model scores {itemCount} items but the dataset has {target.ItemCount}.", nameof(model));
        var relevant = target.Interactions.GroupBy(x => x.User).ToDictionary(g => g.Key, g => (IReadOnlySet<int>)g.Select(x => x.Item).ToHashSet());
        var exclude = new Dictionary<int, HashSet<int>>();
        foreach (var d in known)
            foreach (var x in d.Interactions)
            {
                if (!exclude.TryGetValue(x.User, out var set)) exclude[x.User] = set = [];
                set.Add(x.Item);
            }
        var users = relevant.Keys.Order().ToArray();
        int maxK = Math.Min(Ks.Max(), itemCount);
        string[] names = ["recall", "ndcg", "hit", "mrr", "precision", "map"];
        var batches = Enumerable.Range(0, (users.Length + BatchSize - 1) / BatchSize).ToArray();
        // Sums per batch, added in batch order at the end: the result does not depend on which worker ran which batch,
        // so an evaluation (and early stopping on it) is reproducible to the last bit.
        var batchSums = new double[batches.Length][];
        var partials = new List<HashSet<int>>();
        object gate = new();
        int threads = Threads > 0 ? Threads : Environment.ProcessorCount;
        if (model.MaxParallelism > 0) threads = Math.Min(threads, model.MaxParallelism);
        Parallel.ForEach(batches, new ParallelOptions { MaxDegreeOfParallelism = threads },
            () => (Covered: new HashSet<int>(), Scores: new float[BatchSize * itemCount]),
            (b, _, local) =>
            {
                var sums = batchSums[b] = new double[names.Length * Ks.Count];
                var batch = users.AsSpan(b * BatchSize, Math.Min(BatchSize, users.Length - b * BatchSize));
                var scores = local.Scores.AsSpan(0, batch.Length * itemCount);
                model.ScoreUsers(batch, scores);
                var heapScores = new float[maxK];
                var heapIds = new int[maxK];
                var ranked = new int[maxK];
                for (int u = 0; u < batch.Length; u++)
                {
                    var row = scores.Slice(u * itemCount, itemCount);
                    if (exclude.TryGetValue(batch[u], out var ex)) foreach (int i in ex) row[i] = float.NegativeInfinity;
                    var heap = new TopKHeap(heapScores, heapIds, maxK);
                    for (int i = 0; i < itemCount; i++)
                    {
                        float s = row[i];
                        if (float.IsNegativeInfinity(s) || float.IsNaN(s)) continue;
                        if (heap.Accepts(s, i)) heap.Push(s, i);
                    }
                    int n = heap.DrainSorted(heapScores, ranked);
                    var list = ranked.AsSpan(0, n);
                    var rel = relevant[batch[u]];
                    for (int j = 0; j < Ks.Count; j++)
                    {
                        int k = Ks[j];
                        sums[0 * Ks.Count + j] += RankingMetrics.Recall(list, rel, k);
                        sums[1 * Ks.Count + j] += RankingMetrics.Ndcg(list, rel, k);
                        sums[2 * Ks.Count + j] += RankingMetrics.Hit(list, rel, k);
                        sums[3 * Ks.Count + j] += RankingMetrics.Mrr(list, rel, k);
                        sums[4 * Ks.Count + j] += RankingMetrics.Precision(list, rel, k);
                        sums[5 * Ks.Count + j] += RankingMetrics.Map(list, rel, k);
                    }
                    for (int i = 0; i < Math.Min(n, Ks.Max()); i++) local.Covered.Add(list[i]);
                }
                return local;
            },
            local => { lock (gate) partials.Add(local.Covered); });
        var metrics = new Dictionary<string, double>();
        var total = new double[names.Length * Ks.Count];
        foreach (var sums in batchSums) for (int i = 0; i < total.Length; i++) total[i] += sums[i];
        for (int m = 0; m < names.Length; m++)
            for (int j = 0; j < Ks.Count; j++) metrics[$"{names[m]}@{Ks[j]}"] = users.Length == 0 ? 0 : total[m * Ks.Count + j] / users.Length;
        var covered = new HashSet<int>();
        foreach (var c in partials) covered.UnionWith(c);
        metrics[$"itemcoverage@{Ks.Max()}"] = itemCount == 0 ? 0 : covered.Count / (double)itemCount;
        return new EvaluationResult(metrics, users.Length);
    }
}

using HierRec.Evaluation;
using HierRec.Ranking;

namespace HierRec.Concepts;

/// <summary>Calibration of text cold start's like-minded users (<see cref="ConceptModel.ColdNeighbours"/>).</summary>
public static partial class ConceptTrainer
{
    /// <summary>The k calibration tries for text cold start's like-minded users (capped at the described users less one).</summary>
    internal static readonly int[] NeighbourCounts = [25, 50, 100, 200];

    /// <summary>Stand-in newcomers calibration reads at most (a seeded sample beyond).</summary>
    internal const int MaxNeighbourStandIns = 2000;

    /// <summary>
    /// Text cold start's like-minded users on validation: described users with validation items stand in for newcomers
    /// (their first description, their training items excluded, never their own neighbour), served by
    /// <see cref="ConceptModel.NeighbourScores"/> at each k of <see cref="NeighbourCounts"/> (or the fixed k) and each β_w of
    /// <see cref="WordWeights"/>, against the steered x_∅ at the chosen (β, β_w) on the same stand-ins (the trial with k 0).
    /// A k is chosen only when its NDCG@10 is above that; ties go to the smaller k and β_w.
    /// </summary>
    private static (int Neighbours, float Word, double Ndcg, IReadOnlyList<(int Neighbours, float Word, double Ndcg)> Trials) ChooseNeighbours(
        ConceptModel model, ItemIndex index, ConceptTrainingData data, float[] empty, ConceptOptions options)
    {
        int described = Enumerable.Range(0, model.DescribedUserRows).Count(model.IsDescribed);
        int[] counts = options.ColdNeighbours is int fixedK ? [fixedK] : NeighbourCounts.Where(k => k < described).DefaultIfEmpty(Math.Max(1, described - 1)).Distinct().ToArray();
        var standIns = Enumerable.Range(0, data.Histories.Count)
            .Where(u => data.ValidationItems![u].Length > 0 && data.Descriptions[u] is { Count: > 0 }).ToArray();
        if (standIns.Length > MaxNeighbourStandIns)
        {
            new Rng(options.Seed ^ 0x6e65696768626f72UL).Shuffle(standIns.AsSpan());
            standIns = standIns[..MaxNeighbourStandIns];
            Array.Sort(standIns);
        }
        var words = WordWeights;
        var sums = new double[counts.Length, words.Length];
        double baseline = 0;
        foreach (int u in standIns)
        {
            var concept = model.Describe(data.Descriptions[u]![0]);
            var relevant = data.ValidationItems![u].ToHashSet();
            var rank = new RankOptions { Filter = data.Histories[u].Length > 0 ? ItemFilter.Exclude(data.Histories[u]) : null };
            double Ndcg(RankedItem[] ranked) => RankingMetrics.Ndcg(ranked.Select(r => r.ItemIndex).ToArray(), relevant, 10);
            double steered = Ndcg(model.Rank(index, model.SteerNewUser(empty, concept), concept, 10, rank, model.ColdWordSteeringWeight));
            baseline += steered;
            var named = model.Named(concept);
            var perK = model.NeighbourScoresAt(concept, data.Histories, counts, exclude: u); // one pass for every k
            for (int a = 0; a < counts.Length; a++)
            {
                for (int b = 0; b < words.Length; b++)
                {
                    if (perK is null)
                    {
                        sums[a, b] += steered; // served by the steered x_∅, as RecommendFromDescription does
                        continue;
                    }
                    var lifted = perK[a].ToArray();
                    ConceptModel.Lift(lifted, named, words[b]);
                    sums[a, b] += Ndcg(ScoreStatistics.Top(lifted, 10, rank));
                }
            }
        }
        int n = Math.Max(1, standIns.Length);
        var trials = new List<(int, float, double)> { (0, model.ColdWordSteeringWeight, baseline / n) };
        for (int a = 0; a < counts.Length; a++)
            for (int b = 0; b < words.Length; b++) trials.Add((counts[a], words[b], sums[a, b] / n));
        var best = trials.Skip(1).DefaultIfEmpty((0, 0f, double.NegativeInfinity)).MaxBy(t => t.Item3);
        bool use = options.ColdNeighbours is > 0 || best.Item3 > baseline / n;
        return use ? (best.Item1, best.Item2, best.Item3, trials) : (0, 0, baseline / n, trials);
    }
}

using HierRec.Baselines;
using HierRec.Data;
using HierRec.Evaluation;

namespace HierRec.Tests.Evaluation;

public class EvaluatorTests
{
    /// <summary>Scores item i as −i for everyone: the ranking is 0, 1, 2, … minus excluded items.</summary>
    private sealed class FixedOrder(int items) : IScoringModel
    {
        public int ItemCount => items;

        public void ScoreUsers(ReadOnlySpan<int> users, Span<float> scores)
        {
            for (int u = 0; u < users.Length; u++)
                for (int i = 0; i < items; i++) scores[u * items + i] = -i;
        }
    }

    private static Dataset Make(int users, int items, params (int U, int I)[] pairs)
    {
        var um = new IdMap();
        var im = new IdMap();
        for (int u = 0; u < users; u++) um.GetOrAdd("u" + u);
        for (int i = 0; i < items; i++) im.GetOrAdd("i" + i);
        return new Dataset("t", um, im, pairs.Select(p => new Interaction(p.U, p.I, 1, 0)).ToList());
    }

    [Fact]
    public void ExcludesTrainingItems_AndAveragesOverUsersWithTargets()
    {
        var train = Make(3, 6, (0, 0), (0, 1), (1, 2));
        var test = Make(3, 6, (0, 2), (1, 0), (1, 5));
        var result = new Evaluator { Ks = [2], BatchSize = 1 }.Evaluate(new FixedOrder(6), test, train);
        // User 0: items 0,1 excluded → ranked 2,3 → hit at rank 1. User 1: item 2 excluded → ranked 0,1 → hit at rank 1.
        Assert.Equal(2, result.Users);
        Assert.Equal((1.0 + 1.0 / 2) / 2, result["recall@2"], 12);
        Assert.Equal(1.0, result["hit@2"], 12);
        double ndcgUser1 = 1 / (1 + 1 / Math.Log2(3));
        Assert.Equal((1.0 + ndcgUser1) / 2, result["ndcg@2"], 12);
        Assert.Equal(4.0 / 6, result["itemcoverage@2"], 12); // items 2, 3, 0, 1
    }

    [Fact]
    public void ResultIsIndependentOfBatchSizeAndThreads()
    {
        var rng = new HierRec.Rng(3);
        var pairs = Enumerable.Range(0, 400).Select(_ => (rng.NextInt(50), rng.NextInt(30))).Distinct().ToArray();
        var data = Make(50, 30, pairs);
        var split = Splits.RandomRatioPerUser(data, 0.8, 0.1, 0.1, 7);
        var pop = new MostPopular(split.Train);
        var a = new Evaluator { BatchSize = 1, Threads = 1 }.Evaluate(pop, split.Test, split.Train, split.Validation);
        var b = new Evaluator { BatchSize = 64, Threads = 2 }.Evaluate(pop, split.Test, split.Train, split.Validation);
        Assert.Equal(a.Users, b.Users);
        foreach (var (k, v) in a.Metrics) Assert.Equal(v, b[k], 12);
        Assert.Contains("\"ndcg@10\"", a.ToJson());
        Assert.Contains("| ndcg@10 |", a.ToMarkdown());
    }
}

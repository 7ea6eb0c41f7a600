using HierRec.Evaluation;

namespace HierRec.Tests.Evaluation;

/// <summary>Hand-made cases; expected values are written as the formulas RecBole uses.</summary>
public class RankingMetricsTests
{
    // Ranked list: relevant items at ranks 2 and 4 (1-based); 3 relevant items in all.
    private static readonly int[] Ranked = [10, 20, 30, 40, 50];
    private static readonly HashSet<int> Relevant = [20, 40, 99];

    [Fact]
    public void Recall_IsHitsOverRelevant() => Assert.Equal(2.0 / 3, RankingMetrics.Recall(Ranked, Relevant, 5), 12);

    [Fact]
    public void Precision_IsHitsOverK() => Assert.Equal(2.0 / 5, RankingMetrics.Precision(Ranked, Relevant, 5), 12);

    [Fact]
    public void Hit_IsOneWhenAnyHit()
    {
        Assert.Equal(1, RankingMetrics.Hit(Ranked, Relevant, 2));
        Assert.Equal(0, RankingMetrics.Hit(Ranked, Relevant, 1));
    }

    [Fact]
    public void Mrr_IsReciprocalOfFirstHitRank() => Assert.Equal(1.0 / 2, RankingMetrics.Mrr(Ranked, Relevant, 5), 12);

    [Fact]
    public void Ndcg_DividesDcgByIdealDcgOfMinRelevantAndK()
    {
        double dcg = 1 / Math.Log2(3) + 1 / Math.Log2(5);
        double idcg = 1 / Math.Log2(2) + 1 / Math.Log2(3) + 1 / Math.Log2(4);
        Assert.Equal(dcg / idcg, RankingMetrics.Ndcg(Ranked, Relevant, 5), 12);
        // k = 2: one hit at rank 2; the ideal has min(3, 2) = 2 hits.
        Assert.Equal((1 / Math.Log2(3)) / (1 + 1 / Math.Log2(3)), RankingMetrics.Ndcg(Ranked, Relevant, 2), 12);
    }

    [Fact]
    public void Map_AveragesPrecisionAtHitsOverMinRelevantAndK()
    {
        Assert.Equal((1.0 / 2 + 2.0 / 4) / 3, RankingMetrics.Map(Ranked, Relevant, 5), 12);
        Assert.Equal((1.0 / 2) / 2, RankingMetrics.Map(Ranked, Relevant, 2), 12);
    }

    [Fact]
    public void Metrics_OfAPerfectList_AreOne()
    {
        int[] ranked = [1, 2, 3];
        var rel = new HashSet<int> { 1, 2, 3 };
        Assert.Equal(1, RankingMetrics.Ndcg(ranked, rel, 3), 12);
        Assert.Equal(1, RankingMetrics.Map(ranked, rel, 3), 12);
        Assert.Equal(1, RankingMetrics.Recall(ranked, rel, 3), 12);
    }
}

namespace HierRec.Evaluation;

/// <summary>
/// Top-k ranking metrics with RecBole's definitions, for one user: <c>ranked</c> is the model's list best first
/// (only its first k entries count) and <c>relevant</c> the user's held-out items.
/// </summary>
public static class RankingMetrics
{
    /// <summary>Hits in the top k divided by the number of relevant items.</summary>
    public static double Recall(ReadOnlySpan<int> ranked, IReadOnlySet<int> relevant, int k) =>
        relevant.Count == 0 ? 0 : Hits(ranked, relevant, k) / (double)relevant.Count;

    /// <summary>Hits in the top k divided by k.</summary>
    public static double Precision(ReadOnlySpan<int> ranked, IReadOnlySet<int> relevant, int k) => Hits(ranked, relevant, k) / (double)k;

    /// <summary>1 if any of the top k is relevant, else 0.</summary>
    public static double Hit(ReadOnlySpan<int> ranked, IReadOnlySet<int> relevant, int k) => Hits(ranked, relevant, k) > 0 ? 1 : 0;

    /// <summary>1 / rank of the first relevant item within the top k, else 0.</summary>
    public static double Mrr(ReadOnlySpan<int> ranked, IReadOnlySet<int> relevant, int k)
    {
        int n = Math.Min(k, ranked.Length);
        for (int i = 0; i < n; i++) if (relevant.Contains(ranked[i])) return 1.0 / (i + 1);
        return 0;
    }

    /// <summary>DCG of the top k (gain 1 / log2(rank + 1)) over the ideal DCG of min(|relevant|, k) hits.</summary>
    public static double Ndcg(ReadOnlySpan<int> ranked, IReadOnlySet<int> relevant, int k)
    {
        if (relevant.Count == 0) return 0;
        int n = Math.Min(k, ranked.Length);
        double dcg = 0, idcg = 0;
        for (int i = 0; i < n; i++) if (relevant.Contains(ranked[i])) dcg += 1 / Math.Log2(i + 2);
        int ideal = Math.Min(relevant.Count, k);
        for (int i = 0; i < ideal; i++) idcg += 1 / Math.Log2(i + 2);
        return dcg / idcg;
    }

    /// <summary>Σ over relevant ranks i ≤ k of precision@i, divided by min(|relevant|, k) (RecBole's MAP).</summary>
    public static double Map(ReadOnlySpan<int> ranked, IReadOnlySet<int> relevant, int k)
    {
        if (relevant.Count == 0) return 0;
        int n = Math.Min(k, ranked.Length), hits = 0;
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            if (!relevant.Contains(ranked[i])) continue;
            hits++;
            sum += hits / (double)(i + 1);
        }
        return sum / Math.Min(relevant.Count, k);
    }

    private static int Hits(ReadOnlySpan<int> ranked, IReadOnlySet<int> relevant, int k)
    {
        int n = Math.Min(k, ranked.Length), hits = 0;
        for (int i = 0; i < n; i++) if (relevant.Contains(ranked[i])) hits++;
        return hits;
    }
}

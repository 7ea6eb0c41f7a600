namespace HierRec.Ranking;

/// <summary>Statistics and rankings of score arrays already computed (exact scores of a whole catalogue or a candidate list).</summary>
internal static class ScoreStatistics
{
    /// <summary>The population standard deviation of <paramref name="scores"/> (0 for fewer than two).</summary>
    public static float StandardDeviation(ReadOnlySpan<float> scores)
    {
        if (scores.Length < 2) return 0;
        double mean = System.Numerics.Tensors.TensorPrimitives.Sum(scores) / (double)scores.Length, sq = 0;
        foreach (float v in scores) sq += (v - mean) * (v - mean);
        return (float)Math.Sqrt(sq / scores.Length);
    }

    /// <summary>
    /// The top <paramref name="k"/> of <paramref name="scores"/> (one per item of the catalogue) under
    /// <paramref name="options"/>' filter, minimum and temperature, as <see cref="ItemIndex.Rank(ReadOnlySpan{float}, int, RankOptions?)"/>
    /// orders them (ties: lower index first), with P(i|u) the softmax over every score.
    /// </summary>
    public static RankedItem[] Top(ReadOnlySpan<float> scores, int k, RankOptions options)
    {
        float invT = 1f / options.Temperature;
        var lse = LogSumExp.Empty;
        lse.AddScaled(scores, invT);
        int kk = Math.Min(k, scores.Length);
        var heap = new TopKHeap(new float[kk], new int[kk], kk);
        for (int i = 0; i < scores.Length; i++)
        {
            float s = scores[i];
            if (s < options.MinScore || !heap.Accepts(s, i) || options.Filter is { } f && !f.Allows(i)) continue;
            heap.Push(s, i);
        }
        var top = new float[kk];
        var ids = new int[kk];
        int n = heap.DrainSorted(top, ids);
        double logZ = lse.Value;
        var result = new RankedItem[n];
        for (int r = 0; r < n; r++) result[r] = new RankedItem(ids[r], top[r], (float)Math.Clamp(Math.Exp(top[r] * (double)invT - logZ), 0, 1));
        return result;
    }
}

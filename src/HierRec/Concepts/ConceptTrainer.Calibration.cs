using HierRec.Evaluation;
using HierRec.Ranking;

namespace HierRec.Concepts;

/// <summary>What ConceptTrainer chooses on validation data: steering weights, word steering, the filter thresholds.</summary>
public static partial class ConceptTrainer
{
    /// <summary>The word-steering weights calibration tries (<see cref="ConceptModel.WordSteeringWeight"/>).</summary>
    internal static readonly float[] WordWeights = [0f, 0.05f, 0.1f, 0.15f, 0.25f, 0.5f, 1f, 2f];

    /// <summary>Mean validation NDCG@10 of ranking by the given vectors (training items excluded); NaN without validation.</summary>
    private static double Validate(ConceptTrainingData data, ItemIndex index, Func<int, float[]?> vectorOf) =>
        Validate(data, index, u => vectorOf(u) is { } v ? (v, null) : null, 0, null);

    /// <summary>Validation NDCG@10 of the queries <paramref name="queryOf"/> gives, word-steered at <paramref name="wordWeight"/> by their concept.</summary>
    private static double Validate(ConceptTrainingData data, ItemIndex index, Func<int, (float[] Query, ConceptVector? Concept)?> queryOf, float wordWeight, ConceptModel? model)
    {
        if (data.ValidationItems is null) return double.NaN;
        double sum = 0;
        int count = 0;
        for (int u = 0; u < data.Histories.Count; u++)
        {
            var relevant = data.ValidationItems[u];
            if (relevant.Length == 0) continue;
            var q = queryOf(u);
            count++;
            if (q is not { } query) continue;
            var options = new RankOptions { Filter = data.Histories[u].Length > 0 ? ItemFilter.Exclude(data.Histories[u]) : null };
            var ranked = query.Concept is { } c && model is not null ? model.Rank(index, query.Query, c, 10, options, wordWeight) : index.Rank(query.Query, 10, options);
            sum += RankingMetrics.Ndcg(ranked.Select(r => r.ItemIndex).ToArray(), relevant.ToHashSet(), 10);
        }
        return count == 0 ? double.NaN : sum / count;
    }

    /// <summary>
    /// A rejection is the user's explicit word, never switched off silently: when calibration chose θ⁻ = +∞ (and θ⁻ was
    /// not fixed by the caller), the fallback θ⁻ is the <paramref name="quantile"/> of sim(C⁻, P_i) (it serves the
    /// descriptions the lexical guard cannot read: <see cref="ConceptModel.NegativeFallbackThreshold"/>). Returns it and
    /// whether the fallback applied.
    /// </summary>
    internal static (float Theta, bool Fallback) NegativeFallback(float chosen, bool fixedByCaller, double? quantile, Func<double, float?> quantileOf)
    {
        if (!float.IsPositiveInfinity(chosen) || fixedByCaller || quantile is not double q || quantileOf(q) is not float value) return (chosen, false);
        return (value, true);
    }

    private static (float Steering, float Word, float Positive, float Negative, double Unfiltered, double Filtered, bool NegativeFallback, IReadOnlyList<(float, double)>? WordTrials) Calibrate(ConceptModel model, ItemIndex index, ConceptTrainingData data, ConceptOptions o)
    {
        var users = Enumerable.Range(0, data.Histories.Count)
            .Where(u => data.ValidationItems![u].Length > 0 && data.Descriptions[u] is { Count: > 0 }).ToArray();
        float fixedPositive = o.PositiveThreshold ?? float.NaN, fixedNegative = o.NegativeThreshold ?? float.NaN;
        if (users.Length == 0) return (o.SteeringWeight ?? 0f, o.WordSteeringWeight ?? 0f, o.PositiveThreshold ?? float.NegativeInfinity, o.NegativeThreshold ?? 0.5f, double.NaN, double.NaN, false, null);
        var concepts = users.Select(u => model.Describe(data.Descriptions[u]![0])).ToArray();
        var vectors = data.UserVectors!(users);
        int n = model.ItemCount;
        var exclude = users.Select(u => ItemFilter.Exclude(data.Histories[u])).ToArray();
        var relevant = users.Select(u => data.ValidationItems![u].ToHashSet()).ToArray();

        float beta = 0, word = 0;
        List<(float, double)>? wordTrials = null;
        double removedShare = 0;
        // null thresholds: the model's own (with its fallback θ⁻), as served; noFilter: no filter at all (the lexical
        // guard is part of the filter whatever θ⁻ is).
        double Ndcg(float? theta, float? thetaNeg, bool noFilter = false)
        {
            double sum = 0;
            long removed = 0, positives = 0;
            for (int r = 0; r < users.Length; r++)
            {
                var filter = noFilter ? null : model.Filter(concepts[r], theta, thetaNeg);
                var ranked = model.Rank(index, model.Steer(vectors[r], concepts[r], beta), concepts[r], 10, new RankOptions { Filter = filter is { IsActive: true } ? ItemFilter.All(exclude[r], filter) : exclude[r] }, word);
                sum += RankingMetrics.Ndcg(ranked.Select(x => x.ItemIndex).ToArray(), relevant[r], 10);
                if (filter is { IsActive: true }) removed += relevant[r].Count(i => !filter.Allows(i));
                positives += relevant[r].Count;
            }
            removedShare = positives == 0 ? 0 : removed / (double)positives;
            return sum / users.Length;
        }

        // (candidate, NDCG, removed share) of a run at (θ, θ⁻).
        (float Theta, double Ndcg, double Removed) Score(float candidate, float theta, float thetaNeg)
        {
            double ndcg = Ndcg(theta, thetaNeg);
            return (candidate, ndcg, removedShare);
        }

        // Among candidates removing at most MaxPositiveRemoval of the positives (the switched-off filter always qualifies),
        // the most aggressive whose NDCG@10 is within the tolerance of the best of them.
        float Choose(IEnumerable<(float Theta, double Ndcg, double Removed)> scored, bool largest, double tolerance)
        {
            var allowed = scored.Where(s => s.Removed <= o.MaxPositiveRemoval).ToArray();
            double best = allowed.Max(s => s.Ndcg);
            var good = allowed.Where(s => s.Ndcg >= (1 - tolerance) * best).Select(s => s.Theta);
            return largest ? good.Max() : good.Min();
        }

        float[] Quantiles(bool negative, double[] qs)
        {
            var sims = new List<float>();
            for (int r = 0; r < users.Length && r < 200; r++)
                if ((negative ? concepts[r].Negative : concepts[r].Positive) is not null)
                {
                    var f = model.Filter(concepts[r], 0f, 0f);
                    for (int i = 0; i < n; i++) sims.Add(negative ? f.NegativeSimilarity(i) : f.PositiveSimilarity(i));
                }
            if (sims.Count == 0) return [];
            sims.Sort();
            return qs.Select(q => sims[Math.Min(sims.Count - 1, (int)(q * sims.Count))]).Distinct().ToArray();
        }

        double unfiltered = Ndcg(null, null, noFilter: true);
        double steered = double.NaN; // NDCG@10 at the chosen β, without word steering or filter
        if (o.SteeringWeight is float fixedBeta) beta = fixedBeta;
        else
        {
            var scored = new List<(float Beta, double Ndcg)>();
            foreach (float b in (float[])[0f, 0.1f, 0.2f, 0.35f, 0.5f, 0.75f, 1f])
            {
                beta = b;
                scored.Add((b, b == 0 ? unfiltered : Ndcg(null, null, noFilter: true)));
            }
            (beta, steered) = scored.MaxBy(s => s.Ndcg);
        }
        // β_w: a description should visibly bring what it names, so the largest weight whose NDCG@10 is no lower than
        // without a description (and within FilterTolerance of the best weight's); 0 when none is.
        if (o.WordSteeringWeight is float fixedWord) word = fixedWord;
        else
        {
            var scored = new List<(float Word, double Ndcg)>();
            foreach (float w in WordWeights)
            {
                word = w;
                scored.Add((w, w == 0 && !double.IsNaN(steered) ? steered : Ndcg(null, null, noFilter: true))); // β_w 0 is the β trial already run
            }
            wordTrials = scored.Select(s => (s.Word, s.Ndcg)).ToList();
            double best = scored.Max(s => s.Ndcg);
            word = scored.Where(s => s.Ndcg >= unfiltered && s.Ndcg >= (1 - o.FilterTolerance) * best).Select(s => s.Word).DefaultIfEmpty(0f).Max();
        }
        float theta = fixedPositive;
        if (float.IsNaN(theta))
        {
            var candidates = Quantiles(false, [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
            theta = Choose(candidates.Select(t => Score(t, t, float.PositiveInfinity)).Append(Score(float.NegativeInfinity, float.NegativeInfinity, float.PositiveInfinity)), largest: true, o.PositiveFilterTolerance);
        }
        float thetaNeg = fixedNegative;
        if (float.IsNaN(thetaNeg))
        {
            var candidates = Quantiles(true, [0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99]);
            thetaNeg = Choose(candidates.Select(t => Score(t, theta, t)).Append(Score(float.PositiveInfinity, theta, float.PositiveInfinity)), largest: false, o.FilterTolerance);
        }
        // θ⁻ = +∞ leaves the lexical guard (what the rejection's own words name); the fallback θ⁻ serves the descriptions
        // whose rejected words no item text names (all of them without item texts), so a rejection is never a no-op.
        (float fallbackTheta, bool fallback) = NegativeFallback(thetaNeg, !float.IsNaN(fixedNegative), o.NegativeFallbackQuantile, q => Quantiles(true, [q]) is [var value, ..] ? value : null);
        model.NegativeFallbackThreshold = fallback ? fallbackTheta : float.PositiveInfinity;
        model.PositiveThreshold = theta;
        model.NegativeThreshold = thetaNeg;
        double filtered = Ndcg(null, null);
        return (beta, word, theta, thetaNeg, unfiltered, filtered, fallback, wordTrials);
    }
}

using HierRec.Data;
using HierRec.Evaluation;
using HierRec.Fusion;
using HierRec.Ranking;
using HierRec.Training;

namespace HierRec;

/// <summary>
/// The collaborative dimension: a factorised EASE item-item matrix fused with the hierarchical model's scores in one dot
/// product (<see cref="DimensionFusion"/>), λ and weight chosen on validation.
/// </summary>
public sealed partial class HierarchicalRecommender
{
    private DimensionFusion? _fusion;

    /// <summary>The collaborative dimension fused into the served scores, or null (off, or γ = 0 chosen).</summary>
    public CollaborativeDimension? Collaborative => _fusion?.Collaborative;

    /// <summary>γ, the collaborative dimension's weight relative to the hierarchical one (0 without it).</summary>
    public float CollaborativeWeight => _fusion?.Weight ?? 0f;

    /// <summary>What Fit measured while choosing the collaborative dimension, or null (off, or after Load).</summary>
    public CollaborativeReport? CollaborativeReport { get; private set; }

    /// <summary>
    /// The served scores of known users against the whole catalogue, as an <see cref="IScoringModel"/> for
    /// <see cref="Evaluator"/>: the fused query against the fused item rows, exactly what <see cref="Recommend(string, int)"/>
    /// ranks by.
    /// </summary>
    public IScoringModel AsScoringModel() => new ServedScoring(this);

    /// <summary>
    /// The query the ranker scores with for query vector x (width D) and the user's history: [x ; w_u c_u], or x; w_u from
    /// <paramref name="spreadOf"/> (the user's own vector, when x is a steered version of it), else from x.
    /// </summary>
    private float[] Compose(float[] x, ReadOnlySpan<int> history, float[]? spreadOf = null) =>
        _fusion is null ? x : _fusion.Query(x, history, spreadOf ?? x, out _);

    /// <summary>Serves the fused rows from now on (Fit and Load, before the recommender is published).</summary>
    private void AttachFusion(DimensionFusion fusion) => AttachFusion(fusion, FusedIndex(fusion, out var rows), rows);

    private void AttachFusion(DimensionFusion fusion, ItemIndex index, float[] rows)
    {
        _fusion = fusion;
        _served = index;
        _servedRows = rows;
    }

    /// <summary>The ranker's index of the fused rows [E_i ; V_i] (they do not depend on the weight).</summary>
    private ItemIndex FusedIndex(DimensionFusion fusion, out float[] rows)
    {
        rows = fusion.ItemRows(_itemArray);
        return ItemIndex.Create(rows, _model.ItemTower.Items, fusion.Width, similarity: _model.Scorer.Serving.Similarity);
    }

    /// <summary>
    /// Fits the collaborative dimension on <paramref name="train"/> and attaches it: λ by the factorised EASE's own
    /// validation NDCG@10, then γ by the fused model's; without validation, the first λ and γ = 1.
    /// </summary>
    private void FitCollaborative(Dataset train, Dataset? validation, CollaborativeOptions o, long seed, IProgress<TrainingProgress>? progress)
    {
        const string phase = "collaborative dimension";
        var evaluator = new Evaluator { Ks = [10] };
        int rank = Math.Min(o.Rank, train.ItemCount);
        var lambdas = validation is null ? o.Lambdas.Take(1).ToArray() : o.Lambdas.ToArray();
        CollaborativeDimension? best = null;
        double bestScore = double.NegativeInfinity;
        var lambdaScores = new Dictionary<double, double>();
        foreach (double lambda in lambdas)
        {
            progress?.Report(TrainingProgress.PhaseStarted(phase, $"EASE λ = {lambda}, rank {rank}"));
            var candidate = CollaborativeDimension.Fit(train, lambda, rank, seed, progress);
            if (validation is null) { best = candidate; break; }
            double v;
            using (var scoring = new FactorScoring(candidate, _context)) v = evaluator.Evaluate(scoring, validation, train)["ndcg@10"];
            lambdaScores[lambda] = v;
            if (v > bestScore) (best, bestScore) = (candidate, v);
        }
        var weightScores = new Dictionary<float, double>();
        float weight = 1f;
        // One fusion and one fused index for the chosen λ; the weights only scale the queries.
        var fusion = new DimensionFusion(_itemArray, Dimension0, best!, weight);
        var index = FusedIndex(fusion, out var rows);
        if (validation is not null)
        {
            double bestFused = double.NegativeInfinity;
            foreach (float g in o.Weights)
            {
                progress?.Report(TrainingProgress.PhaseStarted(phase, $"weight γ = {g}"));
                double v = g == 0 ? evaluator.Evaluate(AsScoringModel(), validation, train)["ndcg@10"]
                    : evaluator.Evaluate(new ServedScoring(this, fusion.WithWeight(g), index), validation, train)["ndcg@10"];
                weightScores[g] = v;
                if (v > bestFused) (weight, bestFused) = (g, v);
            }
        }
        CollaborativeReport = new CollaborativeReport(best!.Lambda, rank, weight, lambdaScores, weightScores);
        if (weight > 0) AttachFusion(fusion.WithWeight(weight), index, rows);
        else index.Dispose();
    }

    /// <summary>D, the hierarchical model's width.</summary>
    private int Dimension0 => _model.Options.Dimension;

    /// <summary>Known users' served scores (<see cref="AsScoringModel"/>), or those of a candidate fusion over its fused index.</summary>
    private sealed class ServedScoring(HierarchicalRecommender r, DimensionFusion? fusion = null, ItemIndex? index = null) : IScoringModel
    {
        private readonly DimensionFusion? _fusion = fusion ?? r._fusion;
        private readonly ItemIndex _index = index ?? r._served;

        public int ItemCount => r._model.ItemTower.Items;

        public int MaxParallelism => 1; // user vectors come from libtorch

        public void ScoreUsers(ReadOnlySpan<int> users, Span<float> scores)
        {
            float[][] x;
            using (NoCollection.During()) x = r.UserVectors(users.ToArray()); // see NoCollection: TorchSharp's scalars and the garbage collector
            int n = ItemCount;
            for (int k = 0; k < users.Length; k++)
            {
                var history = r._context.Histories[users[k]];
                _index.Score(_fusion is null ? x[k] : _fusion.Query(x[k], history), scores.Slice(k * n, n));
            }
        }
    }

    /// <summary>The factorised EASE alone, c_u Vᵀ (for choosing λ), scored by the ranker over V.</summary>
    private sealed class FactorScoring(CollaborativeDimension c, Users.UserContext context) : IScoringModel, IDisposable
    {
        private readonly ItemIndex _index = ItemIndex.Create(c.CandidateFactors, c.Items, c.Rank);

        public int ItemCount => c.Items;

        public void ScoreUsers(ReadOnlySpan<int> users, Span<float> scores)
        {
            var f = new float[c.Rank];
            for (int k = 0; k < users.Length; k++)
            {
                c.UserFactors(context.Histories[users[k]], f);
                _index.Score(f, scores.Slice(k * c.Items, c.Items));
            }
        }

        public void Dispose() => _index.Dispose();
    }
}

/// <summary>How Fit chose the collaborative dimension.</summary>
/// <param name="Lambda">EASE's λ chosen.</param>
/// <param name="Rank">Rank of the factors.</param>
/// <param name="Weight">γ chosen (0: the dimension is not served).</param>
/// <param name="LambdaValidation">Validation NDCG@10 of the factorised EASE alone per λ (empty without validation).</param>
/// <param name="WeightValidation">Validation NDCG@10 of the fused model per γ (γ = 0: the hierarchical model alone).</param>
public sealed record CollaborativeReport(double Lambda, int Rank, float Weight, IReadOnlyDictionary<double, double> LambdaValidation, IReadOnlyDictionary<float, double> WeightValidation);

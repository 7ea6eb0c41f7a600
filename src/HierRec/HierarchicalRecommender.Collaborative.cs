using HierRec.Data;
using HierRec.Evaluation;
using HierRec.Fusion;
using HierRec.Ranking;
using HierRec.Training;

namespace HierRec;

/// <summary>
/// The collaborative and sequential dimensions: a factorised EASE item-item matrix and a SASRec model fused with the
/// hierarchical model's scores in one dot product (<see cref="DimensionFusion"/>), λ and the weights chosen on validation.
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

    /// <summary>The sequential dimension fused into the served scores, or null (off, or γ_s = 0 chosen).</summary>
    public SequentialDimension? Sequential => _fusion?.Sequential;

    /// <summary>γ_s, the sequential dimension's weight relative to the hierarchical one (0 without it).</summary>
    public float SequentialWeight => _fusion?.SequentialWeight ?? 0f;

    /// <summary>What Fit measured while choosing the sequential dimension's weight, or null (off, or after Load).</summary>
    public SequentialReport? SequentialReport { get; private set; }

    /// <summary>s_u of the known users from their training histories, computed on first use and kept, per sequential model.</summary>
    private SequenceStates? _sequenceStates;

    private sealed record SequenceStates(SequentialDimension Model, float[]?[] States);

    /// <summary>s_u of known user <paramref name="user"/> (empty without a sequential dimension).</summary>
    private ReadOnlySpan<float> KnownSequenceState(DimensionFusion? fusion, int user) =>
        KnownSequenceStates(fusion, [user]) is { } states ? states[0] : default;

    /// <summary>
    /// s_u of known users (dense indices), those not yet computed in one batched pass (a benign race: two threads may both
    /// compute a state, with the same result); null without a sequential dimension.
    /// </summary>
    private float[][]? KnownSequenceStates(DimensionFusion? fusion, int[] users)
    {
        if (fusion?.Sequential is not { } model) return null;
        var cache = Volatile.Read(ref _sequenceStates);
        if (cache is null || !ReferenceEquals(cache.Model, model))
        {
            cache = new SequenceStates(model, new float[]?[_context.Histories.Count]);
            Volatile.Write(ref _sequenceStates, cache);
        }
        var result = new float[users.Length][];
        var missing = new List<int>();
        for (int k = 0; k < users.Length; k++)
        {
            if (Volatile.Read(ref cache.States[users[k]]) is { } hit) result[k] = hit;
            else missing.Add(k);
        }
        if (missing.Count == 0) return result;
        var computed = model.UserStates(missing.Select(k => _context.Histories[users[k]]).ToArray());
        for (int j = 0; j < missing.Count; j++)
        {
            var state = computed.AsSpan(j * model.Width, model.Width).ToArray();
            result[missing[j]] = state;
            Volatile.Write(ref cache.States[users[missing[j]]], state);
        }
        return result;
    }

    /// <summary>
    /// Known users' served scores with <paramref name="histories"/> as their histories (for example the training and
    /// validation splits when scoring test under the sequential protocol, as RecBole feeds its sequential models): every
    /// dimension reads them, the hierarchical behaviour layer included. Items are ordered by timestamp, most recent first
    /// (ties: later datasets, then later rows, first), as Fit orders training histories.
    /// </summary>
    public IScoringModel AsScoringModel(params Dataset[] histories)
    {
        ArgumentNullException.ThrowIfNull(histories);
        if (histories.Length == 0) return AsScoringModel();
        int users = _context.Histories.Count;
        foreach (var h in histories)
        {
            ArgumentNullException.ThrowIfNull(h, nameof(histories));
            if (h.UserCount != users || h.ItemCount != _model.ItemTower.Items)
                throw new ArgumentException($"{h.Name} has {h.UserCount} users and {h.ItemCount} items; the recommender has {users} and {_model.ItemTower.Items}.", nameof(histories));
        }
        // The sequence models' time order (ties: dataset, then row), reversed to the histories' most recent first.
        var ordered = Baselines.SequenceTransformer.Chronological(histories).Select(s => s.Reverse().ToArray()).ToArray();
        return new ServedScoring(this, histories: ordered);
    }

    /// <summary>
    /// The served scores of known users against the whole catalogue, as an <see cref="IScoringModel"/> for
    /// <see cref="Evaluator"/>: the fused query against the fused item rows, exactly what <see cref="Recommend(string, int)"/>
    /// ranks by.
    /// </summary>
    public IScoringModel AsScoringModel() => new ServedScoring(this);

    /// <summary>
    /// The query the ranker scores with for query vector x (width D) and the user's history: [x ; w_u c_u ; v_u s_u], or x;
    /// the weights from <paramref name="spreadOf"/> (the user's own vector, when x is a steered version of it), else from x;
    /// s_u from the known user's cache when <paramref name="knownUser"/> is given and the history is the training one, else
    /// <paramref name="state"/> when computed already, else from the history.
    /// </summary>
    private float[] Compose(float[] x, ReadOnlySpan<int> history, float[]? spreadOf = null, int knownUser = -1, ReadOnlySpan<float> state = default) =>
        _fusion is null ? x : _fusion.Query(x, history, spreadOf ?? x, out _, knownUser >= 0 ? KnownSequenceState(_fusion, knownUser) : state);

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
    /// Fits the collaborative and sequential dimensions enabled (<paramref name="collaborative"/> and
    /// <paramref name="sequential"/>, null when off) on <paramref name="train"/> and attaches what validation keeps: λ by
    /// the factorised EASE's own validation NDCG@10; γ by the fused model's with the sequential dimension left out; γ_s
    /// with that γ; then γ once more with that γ_s. Without validation, the first λ and weights of 1.
    /// </summary>
    private void FitFusion(Dataset train, Dataset? validation, CollaborativeOptions? collaborative, SequentialDimensionOptions? sequential, long seed,
        IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        var evaluator = new Evaluator { Ks = [10] };
        CollaborativeDimension? best = null;
        var lambdaScores = new Dictionary<double, double>();
        int rank = 0;
        if (collaborative is { } o)
        {
            rank = Math.Min(o.Rank, train.ItemCount);
            var lambdas = validation is null ? o.Lambdas.Take(1).ToArray() : o.Lambdas.ToArray();
            double bestScore = double.NegativeInfinity;
            foreach (double lambda in lambdas)
            {
                cancellationToken.ThrowIfCancellationRequested();
                progress?.Report(TrainingProgress.PhaseStarted("collaborative dimension", $"EASE λ = {lambda}, rank {rank}"));
                var candidate = CollaborativeDimension.Fit(train, lambda, rank, seed, progress);
                if (validation is null) { best = candidate; break; }
                double v;
                using (var scoring = new FactorScoring(candidate, _context)) v = evaluator.Evaluate(scoring, validation, train)["ndcg@10"];
                lambdaScores[lambda] = v;
                if (v > bestScore) (best, bestScore) = (candidate, v);
            }
        }
        SequentialDimension? steps = null;
        ItemIndex? index = null;
        bool attached = false;
        try
        {
            if (sequential is { } so)
            {
                cancellationToken.ThrowIfCancellationRequested();
                progress?.Report(TrainingProgress.PhaseStarted("sequential dimension", so.Pretrained is null ? "training SASRec" : "the given SASRec"));
                steps = so.Pretrained ?? SequentialDimension.Fit(train, validation, so.Model ?? new Baselines.SequentialOptions { Seed = (ulong)seed }, progress, cancellationToken);
                if (steps.Items != train.ItemCount)
                    throw new ArgumentException($"SequentialDimensionOptions.Pretrained was fitted on {steps.Items} items; the training data has {train.ItemCount}.", "options");
            }
            // One fusion and one fused index for the chosen λ and the sequential model; the weights only scale the queries.
            var fusion = new DimensionFusion(_itemArray, Dimension0, best, 1f, steps, 1f);
            index = FusedIndex(fusion, out var rows);
            float weight = best is null ? 0f : 1f, stepWeight = steps is null ? 0f : 1f;
            var weightScores = new Dictionary<float, double>();
            var stepScores = new Dictionary<float, double>();
            if (validation is not null)
            {
                double Validate(float g, float gs) => g == 0 && gs == 0 ? evaluator.Evaluate(AsScoringModel(), validation, train)["ndcg@10"]
                    : evaluator.Evaluate(new ServedScoring(this, fusion.WithWeights(g, gs), index), validation, train)["ndcg@10"];
                float Choose(string phase, IReadOnlyList<float> grid, Func<float, double> score, Dictionary<float, double> into)
                {
                    into.Clear();
                    float chosen = 0;
                    double bestFused = double.NegativeInfinity;
                    foreach (float g in grid)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        progress?.Report(TrainingProgress.PhaseStarted(phase, $"weight γ = {g}"));
                        double v = score(g);
                        into[g] = v;
                        if (v > bestFused) (chosen, bestFused) = (g, v);
                    }
                    return chosen;
                }
                if (best is not null) weight = Choose("collaborative dimension", collaborative!.Weights, g => Validate(g, 0), weightScores);
                if (steps is not null)
                {
                    stepWeight = Choose("sequential dimension", sequential!.Weights, gs => Validate(weight, gs), stepScores);
                    if (best is not null && stepWeight > 0) weight = Choose("collaborative dimension", collaborative!.Weights, g => Validate(g, stepWeight), weightScores);
                }
            }
            if (best is not null) CollaborativeReport = new CollaborativeReport(best.Lambda, rank, weight, lambdaScores, weightScores);
            if (steps is not null) SequentialReport = new SequentialReport(steps.BestEpoch, stepWeight, stepScores);
            var kept = (weight > 0 ? best : null, stepWeight > 0 ? steps : null);
            if (kept == (best, steps))
            {
                AttachFusion(fusion.WithWeights(weight, stepWeight), index, rows);
                attached = true;
                return;
            }
            index.Dispose();
            // A SASRec that validation left out is freed here (its modules hold native memory the GC never returns); one the
            // caller passed in stays theirs.
            if (steps is not null && kept.Item2 is null && !ReferenceEquals(steps, sequential!.Pretrained)) steps.Dispose();
            // A dimension validation left out is not carried in the rows.
            if (kept.Item1 is not null || kept.Item2 is not null) AttachFusion(new DimensionFusion(_itemArray, Dimension0, kept.Item1, weight, kept.Item2, stepWeight));
            attached = true;
        }
        catch when (!attached)
        {
            // Cancelled or failed before anything was attached: the SASRec trained here and the fused index are freed now.
            index?.Dispose();
            if (steps is not null && !ReferenceEquals(steps, sequential?.Pretrained)) steps.Dispose();
            throw;
        }
    }

    /// <summary>D, the hierarchical model's width.</summary>
    private int Dimension0 => _model.Options.Dimension;

    /// <summary>
    /// Known users' served scores (<see cref="AsScoringModel()"/>), those of a candidate fusion over its fused index, or
    /// those from other <paramref name="histories"/> (most recent first, <see cref="AsScoringModel(Dataset[])"/>); with
    /// the served friends' items dimension, or <paramref name="friendItems"/> when <paramref name="friendItemsGiven"/>.
    /// </summary>
    private sealed class ServedScoring(HierarchicalRecommender r, DimensionFusion? fusion = null, ItemIndex? index = null, int[][]? histories = null,
        FriendItemsDimension? friendItems = null, bool friendItemsGiven = false) : IScoringModel
    {
        private readonly DimensionFusion? _fusion = fusion ?? r._fusion;
        private readonly ItemIndex _index = index ?? r._served;
        private readonly FriendItemsDimension? _friendItems = friendItemsGiven ? friendItems : r._friendItems;

        public int ItemCount => r._model.ItemTower.Items;

        public int MaxParallelism => 1; // user vectors come from libtorch

        public void ScoreUsers(ReadOnlySpan<int> users, Span<float> scores)
        {
            var ids = users.ToArray();
            var batch = histories is null ? ids.Select(u => r._context.Histories[u]).ToArray() : ids.Select(u => histories[u]).ToArray();
            // No no-GC region here: this is the encoder code Recommend serves with, which runs without one. A region per
            // batch (a guard against a test-host crash, never confirmed, that the temporaries scoped in 43ca8b3 more
            // probably explain) cost a collection each time and grew native memory by 120 KB to 2 MB a fit
            // (benchmarks/README.md, "Fitting again and again").
            var x = histories is null ? r.UserVectors(ids) : r.UserVectorsWithHistories(ids, batch);
            var states = _fusion?.Sequential is not { } sequential ? null
                : histories is null ? r.KnownSequenceStates(_fusion, ids)
                : Rows(sequential.UserStates(batch), sequential.Width);
            int n = ItemCount;
            for (int k = 0; k < ids.Length; k++)
            {
                var row = scores.Slice(k * n, n);
                _index.Score(_fusion is null ? x[k] : _fusion.Query(x[k], batch[k], x[k], out _, states is null ? default : states[k]), row);
                AddFriendItems(_friendItems, ids[k], x[k], row);
            }
        }

        private static float[][] Rows(float[] flat, int width) => Enumerable.Range(0, flat.Length / width).Select(k => flat.AsSpan(k * width, width).ToArray()).ToArray();
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
/// <param name="WeightValidation">
/// Validation NDCG@10 of the fused model per γ (γ = 0: without the collaborative dimension), at the chosen γ_s when the
/// sequential dimension is served.
/// </param>
public sealed record CollaborativeReport(double Lambda, int Rank, float Weight, IReadOnlyDictionary<double, double> LambdaValidation, IReadOnlyDictionary<float, double> WeightValidation);

/// <summary>How Fit chose the sequential dimension's weight.</summary>
/// <param name="BestEpoch">The SASRec epoch kept (by its own validation NDCG@10).</param>
/// <param name="Weight">γ_s chosen (0: the dimension is not served).</param>
/// <param name="WeightValidation">Validation NDCG@10 of the fused model per γ_s, at the collaborative γ chosen without it (empty without validation).</param>
public sealed record SequentialReport(int BestEpoch, float Weight, IReadOnlyDictionary<float, double> WeightValidation);

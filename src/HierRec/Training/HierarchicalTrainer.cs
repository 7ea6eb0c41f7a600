using System.Diagnostics;
using System.Text.Json;
using HierRec.Data;
using HierRec.Evaluation;
using HierRec.Tensors;
using HierRec.Tensors.Autograd;
using HierRec.Tensors.Optimizers;
using HierRec.Tensors.Serialization;
using HierRec.Users;

namespace HierRec.Training;

/// <summary>The training objective.</summary>
public enum TrainingLoss
{
    /// <summary>Softmax over the whole catalogue, every held-out item of a user a target (exact P(i|u)). Default.</summary>
    FullSoftmax,

    /// <summary>Softmax over the batch's targets (in-batch negatives) plus sampled negatives, with logQ correction.</summary>
    SampledSoftmax,

    /// <summary>Bayesian personalised ranking: −log σ(s⁺ − s⁻), one sampled negative per target.</summary>
    Bpr,

    /// <summary>Binary cross-entropy on σ(s): targets 1, one sampled negative per target 0.</summary>
    BinaryCrossEntropy,
}

/// <summary>How negatives are drawn for the sampled losses.</summary>
public enum NegativeSampling
{
    /// <summary>Uniformly over the catalogue.</summary>
    Uniform,

    /// <summary>Proportionally to training popularity^0.75.</summary>
    Popularity,
}

/// <summary>Options of <see cref="HierarchicalTrainer"/>.</summary>
public sealed record HierarchicalTrainingOptions
{
    /// <summary>Most epochs. Default 100.</summary>
    public int Epochs { get; init; } = 100;

    /// <summary>Users per step. Default 128.</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>Peak AdamW learning rate. Default 2e-3.</summary>
    public float LearningRate { get; init; } = 2e-3f;

    /// <summary>Decoupled weight decay (matrices only). Default 0.</summary>
    public float WeightDecay { get; init; }

    /// <summary>Linear warm-up over this share of the planned steps. Default 0.02.</summary>
    public float WarmupFraction { get; init; } = 0.02f;

    /// <summary>Global gradient-norm clip. Default 5.</summary>
    public float ClipNorm { get; init; } = 5f;

    /// <summary>
    /// Share of a user's training items fed to the model as history in a step; the rest are the targets to predict
    /// (drawn anew every epoch). Default 0.7 (chosen on MovieLens-100K validation NDCG@10 among 0.5, 0.7, 0.8).
    /// </summary>
    public float InputShare { get; init; } = 0.7f;

    /// <summary>The objective. Default full softmax.</summary>
    public TrainingLoss Loss { get; init; } = TrainingLoss.FullSoftmax;

    /// <summary>Negatives per batch for sampled softmax. Default 512.</summary>
    public int SampledNegatives { get; init; } = 512;

    /// <summary>Negative sampling distribution. Default uniform.</summary>
    public NegativeSampling Sampling { get; init; } = NegativeSampling.Uniform;

    /// <summary>Stop after this many epochs without a better validation NDCG@10. Default 10.</summary>
    public int Patience { get; init; } = 10;

    /// <summary>Seed of sampling. Default 1.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>
    /// A folder for checkpoints: best.safetensors (best validation, written atomically) and resume/ (the resume point
    /// after each epoch, written atomically as one folder: the weights, AdamW's moments and step, the sampling
    /// generator's state, the user order and the early-stopping counters). A run started on a folder with a resume point
    /// continues after its last finished epoch exactly as the interrupted run would have. Null: no files.
    /// </summary>
    public string? CheckpointFolder { get; init; }
}

/// <summary>What training did.</summary>
/// <param name="BestEpoch">Epoch of the best validation NDCG@10 (its weights are in the model).</param>
/// <param name="BestValidationNdcg">That NDCG@10.</param>
/// <param name="EpochLosses">Mean training loss per epoch run.</param>
/// <param name="ValidationNdcg">Validation NDCG@10 per epoch run.</param>
/// <param name="Elapsed">Wall time.</param>
/// <param name="ResumedFromEpoch">The epoch a resumed run started after, or 0.</param>
public sealed record HierarchicalTrainingReport(int BestEpoch, double BestValidationNdcg, IReadOnlyList<double> EpochLosses, IReadOnlyList<double> ValidationNdcg, TimeSpan Elapsed, int ResumedFromEpoch);

/// <summary>Training and validation data of the hierarchical model.</summary>
/// <param name="Train">Training interactions (also what the user context is built from).</param>
/// <param name="Validation">Validation interactions (early stopping), or null to train all epochs.</param>
/// <param name="Context">Profiles, histories and neighbourhoods built from <paramref name="Train"/>.</param>
public sealed record HierarchicalTrainingData(Dataset Train, Dataset? Validation, UserContext Context);

/// <summary>
/// End-to-end training of a <see cref="HierarchicalModel"/>: each step takes a batch of users, feeds a random share of
/// each user's training items as history and asks the model to predict the rest under the chosen loss; AdamW with
/// warm-up and linear decay, clipping, early stopping on validation NDCG@10 (full ranking, training items excluded), the
/// best weights restored at the end, checkpoints written atomically and resumable; a non-finite loss stops training with
/// an error and the best weights so far stay in the model.
/// </summary>
public sealed class HierarchicalTrainer(HierarchicalTrainingOptions? options = null) : IFineTuner<HierarchicalModel, HierarchicalTrainingData, HierarchicalTrainingReport>
{
    /// <summary>The options.</summary>
    public HierarchicalTrainingOptions Options { get; } = options ?? new HierarchicalTrainingOptions();

    /// <inheritdoc/>
    public HierarchicalTrainingReport Fit(HierarchicalModel model, HierarchicalTrainingData data, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        var o = Options;
        var sw = Stopwatch.StartNew();
        var rng = new Rng(o.Seed);
        var context = data.Context;
        var histories = context.Histories;
        var users = Enumerable.Range(0, histories.Count).Where(u => histories[u].Length > 0).ToArray();
        int itemCount = model.ItemTower.Items;
        var sampler = NegativeSampler.Create(data.Train, itemCount, o.Sampling);

        int stepsPerEpoch = (users.Length + o.BatchSize - 1) / o.BatchSize;
        long totalSteps = (long)stepsPerEpoch * o.Epochs;
        var optimizer = AdamW.Create(model.NamedParameters(), o.LearningRate, o.WeightDecay);
        var schedule = new LinearWarmupDecaySchedule(o.LearningRate, Math.Max(1, (int)(totalSteps * o.WarmupFraction)), (int)totalSteps);

        var losses = new List<double>();
        var validation = new List<double>();
        double best = double.NegativeInfinity;
        int bestEpoch = 0, startEpoch = 1, resumed = 0, sinceBest = 0;
        Dictionary<string, Tensor>? bestState = null;
        if (o.CheckpointFolder is not null && TryResume(model, optimizer, rng, users, o.CheckpointFolder, out var state))
        {
            startEpoch = state.Epoch + 1;
            resumed = state.Epoch;
            best = state.Best;
            bestEpoch = state.BestEpoch;
            sinceBest = state.SinceBest;
            losses.AddRange(state.Losses);
            validation.AddRange(state.Validation);
            string bestPath = Path.Combine(o.CheckpointFolder, "best.safetensors");
            if (File.Exists(bestPath)) bestState = SafeTensors.Load(bestPath).Tensors.ToDictionary(kv => kv.Key, kv => kv.Value);
        }
        long step = (long)(startEpoch - 1) * stepsPerEpoch;
        var evaluator = new Evaluator { Ks = [10] };
        try
        {
            for (int epoch = startEpoch; epoch <= o.Epochs; epoch++)
            {
                if (model.Social is not null) model.RefreshBehaviourTable(context);
                model.Train();
                rng.Shuffle(users.AsSpan());
                double lossSum = 0;
                int lossCount = 0;
                for (int s = 0; s < users.Length; s += o.BatchSize)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var batchUsers = users.AsSpan(s, Math.Min(o.BatchSize, users.Length - s)).ToArray();
                    var (batch, targets) = MakeBatch(context, batchUsers, o.InputShare, rng);
                    optimizer.LearningRate = schedule.RateAt(step);
                    optimizer.ZeroGrad();
                    var items = model.ItemTower.Forward();
                    var encoded = model.Encode(batch, items);
                    var loss = Loss(o, encoded.Users, items, targets, sampler, rng);
                    float value = loss.ToScalar();
                    if (!float.IsFinite(value))
                        throw new InvalidOperationException($"Training loss became {value} at epoch {epoch}, step {step + 1}; the model keeps the best weights so far (epoch {bestEpoch}). Lower the learning rate.");
                    loss.Backward();
                    if (o.ClipNorm > 0) Optimizer.ClipGradNorm(model.TrainableParameters(), o.ClipNorm);
                    optimizer.Step();
                    step++;
                    lossSum += value;
                    lossCount++;
                    progress?.Report(new TrainingProgress(epoch, step, totalSteps, value, null));
                }
                losses.Add(lossSum / Math.Max(1, lossCount));
                double ndcg = double.NaN;
                if (data.Validation is not null)
                {
                    progress?.Report(new TrainingProgress(epoch, step, totalSteps, losses[^1], null, "validating"));
                    var scorer = new HierarchicalScoringModel(model, context);
                    ndcg = evaluator.Evaluate(scorer, data.Validation, data.Train)["ndcg@10"];
                    validation.Add(ndcg);
                    if (ndcg > best)
                    {
                        best = ndcg;
                        bestEpoch = epoch;
                        sinceBest = 0;
                        bestState = model.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.Clone());
                        if (o.CheckpointFolder is not null) SafeTensors.Save(Path.Combine(o.CheckpointFolder, "best.safetensors"), bestState);
                    }
                    else sinceBest++;
                }
                if (o.CheckpointFolder is not null)
                    SaveState(model, optimizer, o.CheckpointFolder, new TrainerState(epoch, best, bestEpoch, sinceBest, rng.GetState(), users, [.. losses], [.. validation]));
                progress?.Report(new TrainingProgress(epoch, step, totalSteps, losses[^1], double.IsNaN(ndcg) ? null : ndcg));
                if (data.Validation is not null && sinceBest >= o.Patience) break;
            }
        }
        finally
        {
            // Best weights back in the model, on success, cancellation or a non-finite loss alike.
            if (bestState is not null) model.LoadParameters(bestState);
            model.Eval();
            if (model.Social is not null) model.RefreshBehaviourTable(context);
        }
        return new HierarchicalTrainingReport(bestEpoch, best, losses, validation, sw.Elapsed, resumed);
    }

    private sealed record TrainerState(int Epoch, double Best, int BestEpoch, int SinceBest, uint[] Rng, int[] Users, double[] Losses, double[] Validation);

    private static readonly JsonSerializerOptions StateJson = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>The resume point, written as one folder so that its files always belong together.</summary>
    private static void SaveState(HierarchicalModel model, AdamW optimizer, string folder, TrainerState state)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(state, StateJson);
        AtomicFile.WriteDirectory(Path.Combine(folder, "resume"), dir =>
        {
            SafeTensors.Save(Path.Combine(dir, "last.safetensors"), model.StateDict());
            SafeTensors.Save(Path.Combine(dir, "optimizer.safetensors"), optimizer.StateTensors(),
                new Dictionary<string, string> { ["step"] = optimizer.StepCount.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            AtomicFile.Write(Path.Combine(dir, "state.json"), s => s.Write(json));
        });
    }

    private static bool TryResume(HierarchicalModel model, AdamW optimizer, Rng rng, int[] users, string folder, out TrainerState state)
    {
        state = new TrainerState(0, double.NegativeInfinity, 0, 0, [], [], [], []);
        string dir = Path.Combine(folder, "resume");
        string statePath = Path.Combine(dir, "state.json"), last = Path.Combine(dir, "last.safetensors"), moments = Path.Combine(dir, "optimizer.safetensors");
        if (!File.Exists(statePath)) return false;
        try
        {
            state = JsonSerializer.Deserialize<TrainerState>(File.ReadAllBytes(statePath), StateJson) ?? throw new InvalidDataException($"{statePath}: empty state.");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{statePath}: not valid ({ex.Message}).", ex);
        }
        if (state.Users.Length != users.Length || state.Users.Order().Zip(users.Order()).Any(p => p.First != p.Second))
            throw new InvalidDataException($"{statePath}: the checkpoint was written for other training users ({state.Users.Length} vs {users.Length}); use another CheckpointFolder.");
        model.LoadParameters(SafeTensors.Load(last).Tensors, source: last);
        var content = SafeTensors.Load(moments);
        if (content.Metadata is null || !content.Metadata.TryGetValue("step", out var stepText) || !long.TryParse(stepText, System.Globalization.CultureInfo.InvariantCulture, out long step))
            throw new InvalidDataException($"{moments}: metadata 'step' is missing.");
        optimizer.LoadState(content.Tensors, step, moments);
        rng.SetState(state.Rng);
        state.Users.CopyTo(users, 0);
        return true;
    }

    /// <summary>Splits each user's training items into a random input history (kept in recency order) and targets.</summary>
    internal static (UserBatch Batch, int[][] Targets) MakeBatch(UserContext context, int[] users, float inputShare, Rng rng)
    {
        var histories = new int[users.Length][];
        var targets = new int[users.Length][];
        for (int r = 0; r < users.Length; r++)
        {
            var h = context.Histories[users[r]];
            int n = h.Length;
            if (n == 1)
            {
                histories[r] = [];
                targets[r] = [h[0]];
                continue;
            }
            int keep = Math.Clamp((int)MathF.Round(inputShare * n), 1, n - 1);
            var take = new bool[n];
            var idx = Enumerable.Range(0, n).ToArray();
            rng.Shuffle(idx.AsSpan());
            for (int j = 0; j < keep; j++) take[idx[j]] = true;
            histories[r] = h.Where((_, j) => take[j]).ToArray();      // recency order preserved
            targets[r] = h.Where((_, j) => !take[j]).ToArray();
        }
        return (context.Batch(users) with { Histories = histories }, targets);
    }

    /// <summary>
    /// −(1/B) Σ_b (1/|T_b|) Σ_{t ∈ T_b} logp[b, column(t)]: every user weighs the same, whatever the number of targets.
    /// </summary>
    private static Tensor MultiTargetNll(Tensor logp, int[][] targets, Func<int, int> column)
    {
        int b = logp.Dim(0), n = logp.Dim(1);
        var weights = new Tensor(b, n);
        for (int r = 0; r < b; r++)
            foreach (int t in targets[r]) weights.Data[r * n + column(t)] -= 1f / (targets[r].Length * b);
        return Ops.Sum(logp * weights);
    }

    private static Tensor Loss(HierarchicalTrainingOptions o, Tensor users, Tensor items, int[][] targets, NegativeSampler sampler, Rng rng)
    {
        int b = users.Dim(0);
        switch (o.Loss)
        {
            case TrainingLoss.FullSoftmax:
            {
                return MultiTargetNll(Ops.LogSoftmax(Ops.MatMul(users, items, transposeB: true)), targets, t => t); // (B, N)
            }
            case TrainingLoss.SampledSoftmax:
            {
                // Candidates: every target of the batch (in-batch negatives for the other users) plus sampled negatives;
                // logits corrected by −log Q(c), the candidate's sampling probability.
                var candidates = new List<int>();
                var slot = new Dictionary<int, int>();
                foreach (var ts in targets) foreach (int t in ts) if (slot.TryAdd(t, candidates.Count)) candidates.Add(t);
                for (int k = 0; k < o.SampledNegatives; k++) { int j = sampler.Next(rng); if (slot.TryAdd(j, candidates.Count)) candidates.Add(j); }
                int c = candidates.Count;
                var candVectors = Ops.Embedding(items, candidates.ToArray(), c);
                var logQ = new Tensor(c);
                for (int j = 0; j < c; j++) logQ.Data[j] = -MathF.Log(sampler.Probability(candidates[j]));
                return MultiTargetNll(Ops.LogSoftmax(Ops.MatMul(users, candVectors, transposeB: true) + logQ), targets, t => slot[t]);
            }
            default:
            {
                // Pairwise losses over (user, target, negative) triples, through a two-class cross-entropy:
                // BPR: logits [s⁺ − s⁻, 0], class 0 → −log σ(s⁺ − s⁻). BCE: [s⁺, 0] class 0 and [s⁻, 0] class 1.
                var rows = new List<int>();
                var pos = new List<int>();
                var neg = new List<int>();
                for (int r = 0; r < b; r++)
                    foreach (int t in targets[r]) { rows.Add(r); pos.Add(t); neg.Add(sampler.Next(rng)); }
                int p = rows.Count;
                var u = Ops.Embedding(users, rows.ToArray(), p);
                var sPos = Ops.Reshape(Ops.Sum(u * Ops.Embedding(items, pos.ToArray(), p), 1), p, 1);
                var sNeg = Ops.Reshape(Ops.Sum(u * Ops.Embedding(items, neg.ToArray(), p), 1), p, 1);
                var zeros = Tensor.Zeros(p, 1);
                if (o.Loss == TrainingLoss.Bpr) return Ops.CrossEntropy(Ops.Concat([sPos - sNeg, zeros], 1), new int[p]);
                var both = Ops.Concat([Ops.Concat([sPos, zeros], 1), Ops.Concat([sNeg, zeros], 1)], 0);
                var labels = Enumerable.Repeat(0, p).Concat(Enumerable.Repeat(1, p)).ToArray();
                return Ops.CrossEntropy(both, labels);
            }
        }
    }
}

/// <summary>Draws negative items uniformly or by popularity^0.75.</summary>
internal sealed class NegativeSampler
{
    private readonly double[]? _cumulative;
    private readonly float[] _probability;

    private NegativeSampler(double[]? cumulative, float[] probability)
    {
        _cumulative = cumulative;
        _probability = probability;
    }

    public static NegativeSampler Create(Dataset train, int items, NegativeSampling kind)
    {
        if (kind == NegativeSampling.Uniform) return new NegativeSampler(null, Enumerable.Repeat(1f / items, items).ToArray());
        var counts = new double[items];
        foreach (var x in train.Interactions) counts[x.Item] += 1;
        var w = counts.Select(c => Math.Pow(c + 1, 0.75)).ToArray();
        double sum = w.Sum(), acc = 0;
        var cumulative = new double[items];
        for (int i = 0; i < items; i++) { acc += w[i] / sum; cumulative[i] = acc; }
        return new NegativeSampler(cumulative, w.Select(v => (float)(v / sum)).ToArray());
    }

    public int Next(Rng rng)
    {
        if (_cumulative is null) return rng.NextInt(_probability.Length);
        int i = Array.BinarySearch(_cumulative, rng.NextDouble());
        return Math.Min(i < 0 ? ~i : i, _probability.Length - 1);
    }

    public float Probability(int item) => _probability[item];
}

/// <summary>
/// Scores users with a trained <see cref="HierarchicalModel"/> against the whole catalogue (for <see cref="Evaluator"/>):
/// each user's full history from the context, ⟨x_u, E_i⟩ for every item. Item vectors are computed once.
/// </summary>
public sealed class HierarchicalScoringModel : IScoringModel
{
    private readonly HierarchicalModel _model;
    private readonly UserContext _context;
    private readonly Tensor _items;

    /// <summary>Prepares scoring (puts the model in eval mode).</summary>
    public HierarchicalScoringModel(HierarchicalModel model, UserContext context)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(context);
        _model = model;
        _context = context;
        model.Eval();
        using (GradMode.NoGrad()) _items = model.ItemTower.Forward();
    }

    /// <inheritdoc/>
    public int ItemCount => _items.Dim(0);

    /// <inheritdoc/>
    public void ScoreUsers(ReadOnlySpan<int> users, Span<float> scores)
    {
        using var _ = GradMode.NoGrad();
        var encoded = _model.Encode(_context.Batch(users.ToArray()), _items);
        Ops.MatMul(encoded.Users, _items, transposeB: true).Data.CopyTo(scores);
    }
}

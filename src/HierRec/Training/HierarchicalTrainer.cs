using HierRec.Data;
using HierRec.Evaluation;
using HierRec.Users;
using TorchSharp;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace HierRec.Training;

/// <summary>
/// End-to-end training of a <see cref="HierarchicalModel"/> on <see cref="TrainingLoop"/>: each step takes a batch of
/// users, feeds a random share of each user's training items as history and asks the model to predict the rest under the
/// chosen loss (read from the model's scorer logits); early stopping on validation NDCG@10 (full ranking, training items
/// excluded), the best weights restored at the end, checkpoints written atomically and resumable; a non-finite loss
/// stops training with an error and the best weights so far stay in the model.
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
        o.Validate();
        if (data.Train.ItemCount != model.ItemTower.Items)
            throw new ArgumentException($"{data.Train.Name} has {data.Train.ItemCount} items; the model was built for {model.ItemTower.Items}.", nameof(data));
        var task = new HierarchicalTask(model, data, o);
        try
        {
            var report = TrainingLoop.Run(task, o.Loop, progress, cancellationToken);
            return new HierarchicalTrainingReport(report.BestEpoch, report.BestValidation, report.EpochLosses, report.Validation, report.Elapsed, report.ResumedFromEpoch);
        }
        finally
        {
            if (model.Social is not null) model.RefreshBehaviourTable(data.Context);
        }
    }

    /// <summary>The hierarchical model's loss and validation for the shared loop.</summary>
    private sealed class HierarchicalTask(HierarchicalModel model, HierarchicalTrainingData data, HierarchicalTrainingOptions o) : ITrainingTask
    {
        private readonly int[] _users = Enumerable.Range(0, data.Context.Histories.Count).Where(u => data.Context.Histories[u].Length > 0).ToArray();
        private readonly NegativeSampler _sampler = NegativeSampler.Create(data.Train, model.ItemTower.Items, o.Sampling);
        private readonly Evaluator _evaluator = new() { Ks = [10] };

        public nn.Module Model => model;

        public string Phase => "training";

        public string? MetricName => data.Validation is null ? null : "ndcg@10";

        public bool LowerIsBetter => false;

        public int StepsPerEpoch => (_users.Length + o.BatchSize - 1) / o.BatchSize;

        public string DataFingerprint => $"{data.Train.UserCount} users, {data.Train.ItemCount} items, active " + Convert.ToHexString(
            System.Security.Cryptography.SHA256.HashData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_users.AsSpan())));

        public void BeginEpoch(int epoch)
        {
            if (model.Social is not null) model.RefreshBehaviourTable(data.Context);
        }

        public IEnumerable<Func<Tensor?>> Epoch(int epoch, Rng rng)
        {
            var order = (int[])_users.Clone();
            rng.Shuffle(order.AsSpan());
            for (int s = 0; s < order.Length; s += o.BatchSize)
            {
                var batchUsers = order.AsSpan(s, Math.Min(o.BatchSize, order.Length - s)).ToArray();
                yield return () =>
                {
                    var (batch, targets) = MakeBatch(data.Context, batchUsers, o.InputShare, rng, o.NewUserShare);
                    var items = model.ItemVectors();
                    var encoded = model.Encode(batch, items);
                    return Loss(model, o, encoded.Users, items, targets, _sampler, rng);
                };
            }
        }

        public double Validate()
        {
            if (data.Validation is null) return double.NaN;
            using var scorer = new HierarchicalScoringModel(model, data.Context);
            return _evaluator.Evaluate(scorer, data.Validation, data.Train)["ndcg@10"];
        }
    }

    /// <summary>
    /// Splits each user's training items into a random input history (kept in recency order) and targets; with
    /// <paramref name="newUserShare"/> &gt; 0, that share of the rows become newcomers (no history, no user embedding, every
    /// item a target). At 0 the generator's draws are exactly those of before the option existed.
    /// </summary>
    internal static (UserBatch Batch, int[][] Targets) MakeBatch(UserContext context, int[] users, float inputShare, Rng rng, float newUserShare = 0)
    {
        var histories = new int[users.Length][];
        var targets = new int[users.Length][];
        int[]? indices = null;
        for (int r = 0; r < users.Length; r++)
        {
            var h = context.Histories[users[r]];
            int n = h.Length;
            if (newUserShare > 0 && rng.NextFloat() < newUserShare)
            {
                indices ??= (int[])users.Clone();
                indices[r] = -1;
                histories[r] = [];
                targets[r] = h;
                continue;
            }
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
        var batch = context.Batch(users) with { Histories = histories };
        return (indices is null ? batch : batch with { UserIndices = indices }, targets);
    }

    /// <summary>
    /// −(1/B) Σ_b (1/|T_b|) Σ_{t ∈ T_b} logp[b, column(t)]: every user weighs the same, whatever the number of targets.
    /// </summary>
    private static Tensor MultiTargetNll(Tensor logp, int[][] targets, Func<int, int> column)
    {
        long b = logp.shape[0], n = logp.shape[1];
        var index = new List<long>();
        var weight = new List<float>();
        for (int r = 0; r < b; r++)
            foreach (int t in targets[r])
            {
                index.Add(r * n + column(t));
                weight.Add(-1f / (targets[r].Length * b));
            }
        var device = logp.device;
        var picked = logp.flatten().index_select(0, torch.tensor(index.ToArray(), device: device));
        return (picked * torch.tensor(weight.ToArray(), device: device)).sum();
    }

    private static Tensor Loss(HierarchicalModel model, HierarchicalTrainingOptions o, Tensor users, Tensor items, int[][] targets, NegativeSampler sampler, Rng rng)
    {
        long b = users.shape[0];
        var device = users.device;
        switch (o.Loss)
        {
            case TrainingLoss.FullSoftmax:
                return MultiTargetNll(model.Logits(users, items).log_softmax(1), targets, t => t); // (B, N)
            case TrainingLoss.SampledSoftmax:
            {
                // Candidates: every target of the batch (in-batch negatives for the other users) plus sampled negatives;
                // logits corrected by −log Q(c), the candidate's sampling probability.
                var candidates = new List<long>();
                var slot = new Dictionary<int, int>();
                foreach (var ts in targets) foreach (int t in ts) if (slot.TryAdd(t, candidates.Count)) candidates.Add(t);
                for (int k = 0; k < o.SampledNegatives; k++) { int j = sampler.Next(rng); if (slot.TryAdd(j, candidates.Count)) candidates.Add(j); }
                var candVectors = items.index_select(0, torch.tensor(candidates.ToArray(), device: device));
                var logQ = torch.tensor(candidates.Select(c => -MathF.Log(sampler.Probability((int)c))).ToArray(), device: device);
                return MultiTargetNll(model.Logits(users, candVectors).Plus(logQ).log_softmax(1), targets, t => slot[t]);
            }
            default:
            {
                // Pairwise losses over (user, target, negative) triples: BPR −log σ(s⁺ − s⁻); BCE on σ(s⁺) → 1, σ(s⁻) → 0.
                var rows = new List<long>();
                var pos = new List<long>();
                var neg = new List<long>();
                for (int r = 0; r < b; r++)
                    foreach (int t in targets[r]) { rows.Add(r); pos.Add(t); neg.Add(sampler.Next(rng)); }
                var u = users.index_select(0, torch.tensor(rows.ToArray(), device: device));
                var sPos = model.Scorer.PairLogits(u, items.index_select(0, torch.tensor(pos.ToArray(), device: device)));
                var sNeg = model.Scorer.PairLogits(u, items.index_select(0, torch.tensor(neg.ToArray(), device: device)));
                if (o.Loss == TrainingLoss.Bpr) return -nn.functional.logsigmoid(sPos - sNeg).mean();
                var logits = torch.cat([sPos, sNeg]);
                var labels = torch.cat([torch.ones_like(sPos), torch.zeros_like(sNeg)]);
                return nn.functional.binary_cross_entropy_with_logits(logits, labels);
            }
        }
    }
}

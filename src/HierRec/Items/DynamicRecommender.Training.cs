using System.Diagnostics;
using HierRec.Data;
using HierRec.Ranking;
using HierRec.Training;
using TorchSharp;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace HierRec.Items;

/// <summary>Online training: the first fit and <see cref="Update"/>, on the shared training loop.</summary>
public sealed partial class DynamicRecommender
{
    /// <summary>
    /// Learns from new interactions: observes them, takes <see cref="DynamicOptions.UpdateEpochs"/> passes of AdamW steps
    /// on them mixed with replayed older examples, on a copy of the dynamic layers, and swaps the copy in atomically.
    /// Serving continues on the old snapshot meanwhile; a failed or cancelled update leaves it in service.
    /// </summary>
    public DynamicUpdateReport Update(IReadOnlyList<Interaction> interactions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(interactions);
        using var activity = HierRec.Diagnostics.HierRecTelemetry.ActivitySource.StartActivity("HierRec.Update");
        lock (_writeLock)
        {
            ThrowIfDisposed();
            var clock = Stopwatch.StartNew();
            var examples = ObserveLocked(interactions);
            int replay = (int)Math.Min(_replay.Count, Math.Round(examples.Count * Options.ReplayRatio));
            var batch = examples.Concat(Enumerable.Range(0, replay).Select(_ => _replay[_rng.NextInt(_replay.Count)])).ToList();
            var previous = _snapshot;
            var copy = Clone(previous, previous.Version + 1);
            int steps;
            double loss;
            try
            {
                (steps, loss) = batch.Count == 0 ? (0, double.NaN) : Train(copy, batch, Options.UpdateEpochs, Options.UpdateLearningRate, null, cancellationToken);
            }
            catch
            {
                copy.Holds.ReleaseOwner(); // a failed or cancelled update frees its copy; the previous snapshot keeps serving
                throw;
            }
            _snapshot = copy; // atomic publication: readers hold the snapshot they started with
            previous.Holds.ReleaseOwner(); // disposed once the last reader holding it has finished
            foreach (var e in examples) Remember(e);
            HierRec.Diagnostics.HierRecTelemetry.UpdateInteractions.Add(examples.Count);
            HierRec.Diagnostics.HierRecTelemetry.UpdateDuration.Record(clock.Elapsed.TotalSeconds);
            HierRec.Diagnostics.HierRecTelemetry.ModelSwaps.Add(1, new KeyValuePair<string, object?>("hierrec.model", "dynamic"));
            return new DynamicUpdateReport(examples.Count, replay, steps, loss, copy.Version, clock.Elapsed);
        }
    }

    private void Remember(Example e)
    {
        _seenExamples++;
        if (_replay.Count < Options.ReplayCapacity) _replay.Add(e);
        else
        {
            long j = (long)(_rng.NextDouble() * _seenExamples);
            if (j < Options.ReplayCapacity) _replay[(int)j] = e;
        }
    }

    /// <summary>The dynamic layers' loss on examples, as a task of the shared loop (no validation: every epoch runs).</summary>
    private sealed class DynamicTask(DynamicRecommender owner, Snapshot s, List<Example> examples) : ITrainingTask
    {
        public nn.Module Model => s.Layers;

        public string Phase => "dynamic items";

        public string? MetricName => null;

        public bool LowerIsBetter => false;

        public int StepsPerEpoch => (examples.Count + owner.Options.BatchSize - 1) / owner.Options.BatchSize;

        public IEnumerable<Func<Tensor?>> Epoch(int epoch, Rng rng)
        {
            var order = Enumerable.Range(0, examples.Count).ToArray();
            rng.Shuffle(order.AsSpan());
            for (int start = 0; start < order.Length; start += owner.Options.BatchSize)
            {
                var batch = order.AsSpan(start, Math.Min(owner.Options.BatchSize, order.Length - start)).ToArray().Select(i => examples[i]).ToArray();
                yield return () => owner.Loss(s, batch, rng);
            }
        }

        public double Validate() => double.NaN;
    }

    private (int Steps, double Loss) Train(Snapshot s, List<Example> examples, int epochs, float learningRate, IProgress<TrainingProgress>? progress, CancellationToken ct)
    {
        if (epochs == 0 || examples.Count == 0) return (0, double.NaN);
        _trainingStreams.Clear(); // the item times changed since the last call
        var loop = new LoopOptions
        {
            Epochs = epochs, LearningRate = learningRate, WeightDecay = 0.01, WarmupFraction = 0, Decay = false, ClipNorm = 5,
            Seed = unchecked(Options.Seed * 0x9E3779B97F4A7C15UL + (ulong)s.Version),
        };
        var report = TrainingLoop.Run(new DynamicTask(this, s, examples), loop, progress, ct);
        var finite = report.EpochLosses.Where(double.IsFinite).ToArray();
        return ((int)report.Steps, finite.Length == 0 ? double.NaN : finite.Average());
    }

    /// <summary>
    /// Softmax of ⟨x_u, S_i⟩ over the example's candidates, the very list the first stage would serve at the example's
    /// time (the static top <see cref="DynamicOptions.Candidates"/>, plus the new and trending items of the stream as of
    /// that hour with <see cref="DynamicOptions.TrainOnStreamCandidates"/>), with the interacted item as the target:
    /// examples whose item is not among the candidates are skipped (the re-ranker cannot change them, and training on
    /// them would teach it to prefer what the first stage ranks low). With <see cref="DynamicOptions.Negatives"/> below
    /// the candidate count, that many other candidates are sampled. Returns null when no example of the batch qualifies.
    /// </summary>
    private Tensor? Loss(Snapshot s, Example[] batch, Rng rng)
    {
        var vectors = _base.UserVectorsWithHistories(batch.Select(e => e.User).ToArray(), batch.Select(e => e.History).ToArray());
        var rows = new List<(int Row, int[] Candidates)>();
        for (int r = 0; r < batch.Length; r++)
        {
            var e = batch[r];
            var ranked = _base.HierarchicalIndex.Rank(vectors[r], Options.Candidates, new RankOptions { Filter = e.History.Length > 0 ? ItemFilter.Exclude(e.History) : null })
                .Select(c => c.ItemIndex).ToList();
            if (Options.TrainOnStreamCandidates) AddStreamCandidates(TrainingStream(e.Time), vectors[r], e.History, ranked, null);
            var pool = ranked.ToArray();
            if (Array.IndexOf(pool, e.Item) < 0) continue;
            var others = pool.Where(i => i != e.Item).ToArray();
            if (others.Length > Options.Negatives)
            {
                rng.Shuffle(others.AsSpan());
                others = others[..Options.Negatives];
            }
            rows.Add((r, [e.Item, .. others]));
        }
        if (rows.Count == 0) return null;
        int b = rows.Count, n = rows.Min(x => x.Candidates.Length);
        var candidates = rows.Select(x => x.Candidates[..n]).ToArray();
        var histories = rows.Select(x => batch[x.Row].History).ToArray();
        var contexts = rows.Select(x => RequestContext.AtUnixTime(batch[x.Row].Time, batch[x.Row].LastTime > 0 ? batch[x.Row].LastTime : null)).ToArray();
        var ctx = s.Context?.Encode(contexts);
        var features = CandidateFeatures(s, candidates, rows.Select(x => batch[x.Row].Time).ToArray());
        var (dynamic, _) = s.Items.Forward(Gather(candidates), _items, histories, ctx, features);
        var logits = DynamicItemEncoder.Score(Users(rows.Select(x => vectors[x.Row]).ToArray()), dynamic, s.Items.FeatureBias(features)); // (B, N), target column 0
        return nn.functional.cross_entropy(logits, torch.zeros(b, dtype: ScalarType.Int64, device: logits.device));
    }

    /// <summary>
    /// The stream's candidates for a training example at <paramref name="time"/>, as of the start of its hour (so no
    /// interaction at or after the example is seen), cached per hour for the current <see cref="Train"/> call.
    /// </summary>
    private StreamSnapshot TrainingStream(long time)
    {
        long hour = time - ((time % 3600) + 3600) % 3600;
        return _trainingStreams.GetOrAdd(hour, StreamAt);
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, StreamSnapshot> _trainingStreams = new();

    private Snapshot Clone(Snapshot s, long version)
    {
        var layers = DynamicLayers.Create(_dimension, Options, s.Context?.Schema ?? Options.Context, 0, _items.device);
        var state = TorchCheckpoint.Snapshot(s.Layers);
        try
        {
            TorchCheckpoint.Load(layers, state, "the served snapshot");
        }
        catch
        {
            layers.Dispose(); // the copy never served: freed now
            throw;
        }
        finally
        {
            foreach (var t in state.Values) t.Dispose();
        }
        layers.eval();
        return new Snapshot(layers, version);
    }
}

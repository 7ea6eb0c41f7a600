using System.Diagnostics;
using HierRec.Evaluation;
using HierRec.Ranking;
using HierRec.Text;
using HierRec.Training;
using TorchSharp;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace HierRec.Concepts;

/// <summary>
/// Trains a <see cref="ConceptModel"/> in three steps. (1) The self-supervised behaviour interest I_u: for each user two
/// augmented views of the history (item masking, cropping, reordering, with one item hidden from both) must identify
/// each other among the batch (InfoNCE on cosines at temperature τ) and retrieve the hidden item from the catalogue
/// (softmax over ⟨I_u, P_i⟩). (2) Alignment: the concept C_u of the positive clauses of the user's description must
/// identify the user's I_u among the batch (InfoNCE) and retrieve an item of the history, so that a description alone
/// can retrieve items; and the encoder reading an item's text must retrieve that item (<see cref="ConceptOptions.ItemTextWeight"/>). (3) The steering of text cold start and (4) of known users, and the filter thresholds θ, θ⁻, are
/// chosen on validation data (<see cref="ConceptOptions.FilterTolerance"/>, <see cref="ConceptOptions.PositiveFilterTolerance"/>).
/// Each phase runs on <see cref="TrainingLoop"/> (constant rate, clipping at 5), stops early on validation NDCG@10 and
/// keeps its best epoch.
/// </summary>
public static class ConceptTrainer
{
    /// <summary>Trains the concept model.</summary>
    public static ConceptModel Fit(ConceptTrainingData data, ConceptOptions? options, out ConceptReport report,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        options ??= new ConceptOptions();
        options.Validate();
        var items = data.Items ?? throw new ArgumentException("Items are required.", nameof(data));
        if (items.dim() != 2) throw new ArgumentException($"Items must be (items, D); got {TorchInterop.ShapeString(items.shape)}.", nameof(data));
        int users = data.Histories.Count, d = (int)items.shape[1], n = (int)items.shape[0];
        if (data.Descriptions.Count != users) throw new ArgumentException($"{data.Descriptions.Count} description lists for {users} users.", nameof(data));
        if (data.ValidationItems is not null && data.ValidationItems.Count != users)
            throw new ArgumentException($"{data.ValidationItems.Count} validation lists for {users} users.", nameof(data));
        var clock = Stopwatch.StartNew();
        var rng = new Rng(options.Seed);
        var parser = new DescriptionParser(options.Cues);
        using var constant = items.detach().clone();

        MlmReport? bertReport = null;
        var bert = options.Bert;
        if (bert is null)
        {
            progress?.Report(TrainingProgress.PhaseStarted("concepts", "pre-training the description BERT"));
            var corpus = data.ItemTexts.Concat(data.Descriptions.Where(x => x is not null).SelectMany(x => x!)).Where(t => !string.IsNullOrWhiteSpace(t)).ToArray();
            bert = DomainBert.Pretrain(corpus, options.DomainBert, out var r, progress, cancellationToken, items.device);
            bertReport = r;
        }
        bert.ApplyFineTuning(BertFineTuning.Frozen);
        ConceptEncoder encoder;
        InterestEncoder interest;
        using (var generator = new Generator(options.Seed ^ 0xC0C))
        {
            encoder = new ConceptEncoder(bert, d, generator, options.DomainBert.MaxLength, parser);
            interest = new InterestEncoder(d, options.MaxHistory, generator);
        }
        if (items.device.type != DeviceType.CPU)
        {
            encoder.to(items.device); // every tensor of the concept side lives where the item vectors do
            interest.to(items.device);
        }
        var model = new ConceptModel(encoder, interest, constant);
        using var index = ItemIndex.Create(model.ItemRows, n, d);

        // (1) Self-supervised interest.
        var active = Enumerable.Range(0, users).Where(u => data.Histories[u].Length >= 2).ToArray();
        var (interestNdcg, interestEpochs) = Phase(interest, "interest", options.InterestEpochs, active, options, 1, progress, cancellationToken,
            (batch, r) => InterestLoss(interest, constant, batch.Select(u => data.Histories[u]).ToArray(), options, r),
            data.ValidationItems is null ? null : () => Validate(data, index, u => model.InterestOf(data.Histories[u])));

        // (2) Alignment of descriptions with the interests.
        using var targets = Targets(interest, constant, data.Histories);
        string PositiveText(int u, int phrasing) => parser.SplitByPolarity(data.Descriptions[u]![phrasing]).Positive;
        var textItems = Enumerable.Range(0, Math.Min(n, data.ItemTexts.Count)).Where(i => !string.IsNullOrWhiteSpace(data.ItemTexts[i])).ToArray();
        var described = active.Where(u => data.Descriptions[u] is { Count: > 0 } list && list.Any(t => parser.SplitByPolarity(t).Positive.Length > 0)).ToArray();
        var (alignNdcg, alignEpochs) = Phase(encoder, "alignment", options.AlignmentEpochs, described, options, 2, progress, cancellationToken,
            (batch, r) =>
            {
                var texts = new List<string>(batch.Length);
                var rows = new List<int>(batch.Length);
                foreach (int u in batch)
                {
                    var list = data.Descriptions[u]!;
                    string text = PositiveText(u, r.NextInt(list.Count));
                    if (text.Length == 0) continue;
                    texts.Add(text);
                    rows.Add(u);
                }
                var loss = AlignmentLoss(encoder, constant, targets, rows.ToArray(), texts, rows.Select(u => data.Histories[u][r.NextInt(data.Histories[u].Length)]).ToArray(), options);
                if (options.ItemTextWeight == 0 || textItems.Length == 0) return loss;
                var sample = Enumerable.Range(0, batch.Length).Select(_ => textItems[r.NextInt(textItems.Length)]).ToArray();
                var c = encoder.Encode(sample.Select(i => data.ItemTexts[i]).ToArray());
                return loss.Plus(nn.functional.cross_entropy(c.matmul(constant.t()), Longs(sample, c.device)).Times(options.ItemTextWeight));
            },
            data.ValidationItems is null ? null : () => Validate(data, index, u => model.Describe(data.Descriptions[u] is { Count: > 0 } l ? l[0] : "").Positive));
        encoder.eval();
        interest.eval();
        if (options.FilterOnItemText && textItems.Length > 0)
        {
            var itemConcepts = new float[n * d];
            using (torch.no_grad())
                for (int s = 0; s < textItems.Length; s += 256)
                {
                    var chunk = textItems.AsSpan(s, Math.Min(256, textItems.Length - s)).ToArray();
                    using var c = encoder.Encode(chunk.Select(i => data.ItemTexts[i]).ToArray());
                    var values = TorchInterop.ToFloats(c);
                    for (int r = 0; r < chunk.Length; r++) values.AsSpan(r * d, d).CopyTo(itemConcepts.AsSpan(chunk[r] * d, d));
                }
            model.ItemConcepts = itemConcepts; // items without text stay zero: similarity 0
        }
        if (data.ItemTexts.Count == n) model.ItemWords = ItemWords.FromTexts(data.ItemTexts);

        // (3) β of text cold start: described users served from the description alone, on their validation items.
        double coldNdcg = double.NaN;
        if (data.EmptyUserVector is { } empty && data.ValidationItems is not null)
        {
            progress?.Report(TrainingProgress.PhaseStarted("concepts", "choosing the cold-start steering"));
            // Every (β, β_w) pair; ties go to the first: the weaker word steering.
            var coldConcepts = new Dictionary<int, ConceptVector>();
            for (int u = 0; u < data.Histories.Count; u++)
                if (data.ValidationItems[u].Length > 0 && data.Descriptions[u] is { Count: > 0 } l) coldConcepts[u] = model.Describe(l[0]);
            var trials = ((float[])[0.5f, 1f, 2f, 4f, float.PositiveInfinity]).SelectMany(beta => WordWeights.Select(w => (Beta: beta, Word: w, Ndcg: Validate(data, index,
                u => coldConcepts.TryGetValue(u, out var c) ? (model.SteerNewUser(empty, c, beta), c) : null, w, model)))).ToArray();
            (model.ColdSteeringWeight, model.ColdWordSteeringWeight, coldNdcg) = trials.MaxBy(t => t.Ndcg);
        }

        // (3b) Text cold start from like-minded users: the described users' description vectors, and k (with β_w) where
        // it serves the stand-in newcomers better than the steered x_∅ does.
        IReadOnlyList<(int Neighbours, float Word, double Ndcg)>? neighbourTrials = null;
        model.DescriptionVectors = model.BuildDescriptionVectors(data.Descriptions);
        model.ColdNeighbours = options.ColdNeighbours ?? 0;
        if (options.ColdNeighbours is not 0 && data.EmptyUserVector is { } emptyUser && data.ValidationItems is not null)
        {
            progress?.Report(TrainingProgress.PhaseStarted("concepts", "choosing the cold-start neighbours"));
            var choice = ChooseNeighbours(model, index, data, emptyUser, options);
            neighbourTrials = choice.Trials;
            if (choice.Neighbours > 0)
            {
                model.ColdNeighbours = choice.Neighbours;
                model.ColdWordSteeringWeight = choice.Word;
                coldNdcg = choice.Ndcg;
            }
        }

        // (4) Steering and thresholds.
        double unfiltered = double.NaN, filtered = double.NaN;
        bool negativeFallback = false;
        IReadOnlyList<(float Weight, double Ndcg)>? wordTrials = null;
        model.SteeringWeight = options.SteeringWeight ?? 0f;
        model.WordSteeringWeight = options.WordSteeringWeight ?? 0f;
        model.PositiveThreshold = options.PositiveThreshold ?? float.NegativeInfinity;
        model.NegativeThreshold = options.NegativeThreshold ?? 0.5f;
        if (data.ValidationItems is not null && data.UserVectors is not null)
        {
            progress?.Report(TrainingProgress.PhaseStarted("concepts", "choosing the filter thresholds"));
            (model.SteeringWeight, model.WordSteeringWeight, model.PositiveThreshold, model.NegativeThreshold, unfiltered, filtered, negativeFallback, wordTrials) = Calibrate(model, index, data, options);
        }
        report = new ConceptReport(interestEpochs, interestNdcg, alignEpochs, alignNdcg, model.SteeringWeight, model.ColdSteeringWeight, coldNdcg,
            model.PositiveThreshold, model.NegativeThreshold, unfiltered, filtered, clock.Elapsed, bertReport,
            PositiveFilterOff: float.IsNegativeInfinity(model.PositiveThreshold), NegativeFilterFallback: negativeFallback,
            NegativeFilterOff: float.IsPositiveInfinity(model.NegativeThreshold) && float.IsPositiveInfinity(model.NegativeFallbackThreshold) && model.ItemWords is null,
            NegativeFallbackThreshold: model.NegativeFallbackThreshold, WordSteeringWeight: model.WordSteeringWeight, ColdWordSteeringWeight: model.ColdWordSteeringWeight, WordSteeringTrials: wordTrials,
            ColdNeighbours: model.ColdNeighbours, ColdNeighbourTrials: neighbourTrials);
        return model;
    }

    /// <summary>One training phase of a concept module, as a task of the shared loop.</summary>
    private sealed class PhaseTask(nn.Module module, string name, int[] users, int batchSize, Func<int[], Rng, Tensor> loss, Func<double>? validate) : ITrainingTask
    {
        public nn.Module Model => module;

        public string Phase => name;

        public string? MetricName => validate is null ? null : "ndcg@10";

        public bool LowerIsBetter => false;

        public int StepsPerEpoch => (users.Length + batchSize - 1) / batchSize;

        public IEnumerable<Func<Tensor?>> Epoch(int epoch, Rng rng)
        {
            var order = (int[])users.Clone();
            rng.Shuffle(order.AsSpan());
            for (int s = 0; s < order.Length; s += batchSize)
            {
                var batch = order.AsSpan(s, Math.Min(batchSize, order.Length - s)).ToArray();
                if (batch.Length < 2) continue; // in-batch negatives need two rows
                yield return () => loss(batch, rng);
            }
        }

        public double Validate() => validate?.Invoke() ?? double.NaN;
    }

    private static (double Best, int Epochs) Phase(nn.Module module, string name, int epochs, int[] users, ConceptOptions o, int phase,
        IProgress<TrainingProgress>? progress, CancellationToken ct, Func<int[], Rng, Tensor> loss, Func<double>? validate)
    {
        if (epochs == 0 || users.Length < 2) return (double.NaN, 0);
        var loop = new LoopOptions
        {
            Epochs = epochs, MinEpochs = Math.Min(o.MinEpochs, epochs), Patience = o.Patience, LearningRate = o.LearningRate, WeightDecay = o.WeightDecay, WarmupFraction = 0, Decay = false,
            ClipNorm = 5, Seed = o.Seed * 31 + (ulong)phase,
        };
        var report = TrainingLoop.Run(new PhaseTask(module, name, users, o.BatchSize, loss, validate), loop, progress, ct);
        return (validate is null ? double.NaN : report.BestValidation, report.EpochLosses.Count);
    }

    private static Tensor Longs(int[] values, Device device) => torch.tensor(values.Select(v => (long)v).ToArray(), device: device);

    /// <summary>Unit-length I_u of every user (eval mode, no gradients), the alignment's fixed targets.</summary>
    private static Tensor Targets(InterestEncoder interest, Tensor items, IReadOnlyList<int[]> histories)
    {
        interest.eval();
        using var noGrad = torch.no_grad();
        var parts = new List<Tensor>();
        for (int s = 0; s < histories.Count; s += 256)
            parts.Add(interest.Forward(items, histories.Skip(s).Take(256).ToArray()));
        using var all = torch.cat(parts, 0);
        foreach (var p in parts) p.Dispose();
        return nn.functional.normalize(all, p: 2, dim: 1).DetachFromDisposeScope();
    }

    private static Tensor InterestLoss(InterestEncoder interest, Tensor items, int[][] histories, ConceptOptions o, Rng rng)
    {
        int b = histories.Length;
        var views = new int[2 * b][];
        var hidden = new int[2 * b];
        for (int r = 0; r < b; r++)
        {
            var h = histories[r];
            int j = rng.NextInt(h.Length);
            var rest = h.Where((_, k) => k != j).ToArray();
            views[r] = HistoryAugmentation.Random(rest, rng, o.MaskShare, o.CropShare, o.ReorderShare);
            views[b + r] = HistoryAugmentation.Random(rest, rng, o.MaskShare, o.CropShare, o.ReorderShare);
            hidden[r] = hidden[b + r] = h[j];
        }
        var z = interest.Forward(items, views);                                   // (2B, D)
        var unit = nn.functional.normalize(z, p: 2, dim: 1);
        var contrastive = InfoNce(unit[..b], unit[b..], o.Temperature);
        if (o.ItemLossWeight == 0) return contrastive;
        return contrastive.Plus(nn.functional.cross_entropy(z.matmul(items.t()), Longs(hidden, z.device)).Times(o.ItemLossWeight));
    }

    private static Tensor AlignmentLoss(ConceptEncoder encoder, Tensor items, Tensor targets, int[] users, List<string> texts, int[] historyItems, ConceptOptions o)
    {
        var c = encoder.Encode(texts);                                            // (B, D)
        var t = targets.index_select(0, Longs(users, c.device));                  // (B, D), constant
        var loss = InfoNce(nn.functional.normalize(c, p: 2, dim: 1), t, o.Temperature, symmetric: false);
        if (o.ItemLossWeight == 0) return loss;
        return loss.Plus(nn.functional.cross_entropy(c.matmul(items.t()), Longs(historyItems, c.device)).Times(o.ItemLossWeight));
    }

    /// <summary>InfoNCE with in-batch negatives: row r of <paramref name="a"/> must pick row r of <paramref name="b"/> (and back when symmetric).</summary>
    private static Tensor InfoNce(Tensor a, Tensor b, float temperature, bool symmetric = true)
    {
        var diagonal = Scalars.Arange(a.shape[0], a.device);
        var logits = a.matmul(b.t()).Over(temperature);
        var forward = nn.functional.cross_entropy(logits, diagonal);
        return symmetric ? forward.Plus(nn.functional.cross_entropy(logits.t(), diagonal)).Times(0.5) : forward;
    }

    /// <summary>The word-steering weights calibration tries (<see cref="ConceptModel.WordSteeringWeight"/>).</summary>
    internal static readonly float[] WordWeights = [0f, 0.05f, 0.1f, 0.15f, 0.25f, 0.5f, 1f, 2f];

    /// <summary>The k calibration tries for text cold start's like-minded users (capped at the described users less one).</summary>
    internal static readonly int[] NeighbourCounts = [25, 50, 100, 200];

    /// <summary>Stand-in newcomers calibration reads at most (a seeded sample beyond).</summary>
    internal const int MaxNeighbourStandIns = 2000;

    /// <summary>
    /// Text cold start's like-minded users on validation: described users with validation items stand in for newcomers
    /// (their first description, their training items excluded, never their own neighbour), served by
    /// <see cref="ConceptModel.NeighbourScores"/> at each k of <see cref="NeighbourCounts"/> (or the fixed k) and each β_w of
    /// <see cref="WordWeights"/>, against the steered x_∅ at the chosen (β, β_w) on the same stand-ins (the trial with k 0).
    /// A k is chosen only when its NDCG@10 is above that; ties go to the smaller k and β_w.
    /// </summary>
    private static (int Neighbours, float Word, double Ndcg, IReadOnlyList<(int Neighbours, float Word, double Ndcg)> Trials) ChooseNeighbours(
        ConceptModel model, ItemIndex index, ConceptTrainingData data, float[] empty, ConceptOptions options)
    {
        int d = model.Dimension, rows = model.DescribedUserRows;
        var vectors = model.DescriptionVectors!;
        int described = Enumerable.Range(0, rows).Count(u => System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(vectors.AsSpan(u * d, d)) > 0);
        int[] counts = options.ColdNeighbours is int fixedK ? [fixedK] : NeighbourCounts.Where(k => k < described).DefaultIfEmpty(Math.Max(1, described - 1)).Distinct().ToArray();
        var standIns = Enumerable.Range(0, data.Histories.Count)
            .Where(u => data.ValidationItems![u].Length > 0 && data.Descriptions[u] is { Count: > 0 }).ToArray();
        if (standIns.Length > MaxNeighbourStandIns)
        {
            new Rng(options.Seed ^ 0x6e65696768626f72UL).Shuffle(standIns.AsSpan());
            standIns = standIns[..MaxNeighbourStandIns];
            Array.Sort(standIns);
        }
        var words = WordWeights;
        var sums = new double[counts.Length, words.Length];
        double baseline = 0;
        foreach (int u in standIns)
        {
            var concept = model.Describe(data.Descriptions[u]![0]);
            var relevant = data.ValidationItems![u].ToHashSet();
            var rank = new RankOptions { Filter = data.Histories[u].Length > 0 ? ItemFilter.Exclude(data.Histories[u]) : null };
            double Ndcg(RankedItem[] ranked) => RankingMetrics.Ndcg(ranked.Select(r => r.ItemIndex).ToArray(), relevant, 10);
            double steered = Ndcg(model.Rank(index, model.SteerNewUser(empty, concept), concept, 10, rank, model.ColdWordSteeringWeight));
            baseline += steered;
            var named = model.Named(concept);
            for (int a = 0; a < counts.Length; a++)
            {
                var scores = model.NeighbourScores(concept, data.Histories, counts[a], exclude: u);
                for (int b = 0; b < words.Length; b++)
                {
                    if (scores is null)
                    {
                        sums[a, b] += steered; // served by the steered x_∅, as RecommendFromDescription does
                        continue;
                    }
                    var lifted = scores.ToArray();
                    ConceptModel.Lift(lifted, named, words[b]);
                    sums[a, b] += Ndcg(ScoreStatistics.Top(lifted, 10, rank));
                }
            }
        }
        int n = Math.Max(1, standIns.Length);
        var trials = new List<(int, float, double)> { (0, model.ColdWordSteeringWeight, baseline / n) };
        for (int a = 0; a < counts.Length; a++)
            for (int b = 0; b < words.Length; b++) trials.Add((counts[a], words[b], sums[a, b] / n));
        var best = trials.Skip(1).DefaultIfEmpty((0, 0f, double.NegativeInfinity)).MaxBy(t => t.Item3);
        bool use = options.ColdNeighbours is > 0 || best.Item3 > baseline / n;
        return use ? (best.Item1, best.Item2, best.Item3, trials) : (0, 0, baseline / n, trials);
    }

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

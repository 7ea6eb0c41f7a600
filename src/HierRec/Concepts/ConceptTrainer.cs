using System.Diagnostics;
using HierRec.Evaluation;
using HierRec.Ranking;
using HierRec.Tensors;
using HierRec.Tensors.Autograd;
using HierRec.Tensors.Layers;
using HierRec.Tensors.Optimizers;
using HierRec.Text;
using HierRec.Text.Legacy;

namespace HierRec.Concepts;

/// <summary>What <see cref="ConceptTrainer"/> learns from.</summary>
/// <param name="Histories">Per dense user, the training items most recent first.</param>
/// <param name="Descriptions">Per dense user, one or more phrasings of the user's interest description (null or empty: none).</param>
/// <param name="Items">P: the item vectors (items, D) the concepts live with (e.g. the recommender's item tower); a constant.</param>
/// <param name="ItemTexts">Item texts, for pre-training the domain BERT when none is given.</param>
/// <param name="ValidationItems">Per dense user, validation items (null: no early stopping and no calibration).</param>
/// <param name="UserVectors">The recommender's user vectors x_u for dense users, for choosing the thresholds (null: no calibration).</param>
/// <param name="EmptyUserVector">The recommender's vector x_∅ of a user with nothing known, for text cold start (null: C⁺ alone).</param>
public sealed record ConceptTrainingData(IReadOnlyList<int[]> Histories, IReadOnlyList<IReadOnlyList<string>?> Descriptions, Tensor Items,
    IReadOnlyList<string> ItemTexts, IReadOnlyList<int[]>? ValidationItems = null, Func<int[], float[][]>? UserVectors = null, float[]? EmptyUserVector = null);

/// <summary>
/// Trains a <see cref="ConceptModel"/> in three steps. (1) The self-supervised behaviour interest I_u: for each user two
/// augmented views of the history (item masking, cropping, reordering, with one item hidden from both) must identify
/// each other among the batch (InfoNCE on cosines at temperature τ) and retrieve the hidden item from the catalogue
/// (softmax over ⟨I_u, P_i⟩). (2) Alignment: the concept C_u of the positive clauses of the user's description must
/// identify the user's I_u among the batch (InfoNCE) and retrieve an item of the history, so that a description alone
/// can retrieve items; and the encoder reading an item's text must retrieve that item (<see cref="ConceptOptions.ItemTextWeight"/>). (3) The steering of text cold start and (4) of known users, and the filter thresholds θ, θ⁻, are
/// chosen on validation data (<see cref="ConceptOptions.FilterTolerance"/>).
/// Each phase stops early on validation NDCG@10 and keeps its best epoch.
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
        int users = data.Histories.Count, d = items.Dim(1);
        if (data.Descriptions.Count != users) throw new ArgumentException($"{data.Descriptions.Count} description lists for {users} users.", nameof(data));
        if (data.ValidationItems is not null && data.ValidationItems.Count != users)
            throw new ArgumentException($"{data.ValidationItems.Count} validation lists for {users} users.", nameof(data));
        var clock = Stopwatch.StartNew();
        var rng = new Rng(options.Seed);
        var parser = new DescriptionParser(options.Cues);

        MlmReport? bertReport = null;
        var bert = options.Bert;
        if (bert is null)
        {
            progress?.Report(TrainingProgress.PhaseStarted("concepts", "pre-training the description BERT"));
            var corpus = data.ItemTexts.Concat(data.Descriptions.Where(x => x is not null).SelectMany(x => x!)).Where(t => !string.IsNullOrWhiteSpace(t)).ToArray();
            bert = HierRec.Text.Legacy.DomainBert.Pretrain(corpus, options.DomainBert, out var r, null, cancellationToken);
            bertReport = r;
        }
        bert.ApplyFineTuning(BertFineTuning.Frozen);
        var encoder = new ConceptEncoder(bert, d, rng.Fork(), options.DomainBert.MaxLength, parser);
        var interest = new InterestEncoder(d, options.MaxHistory, rng.Fork());
        var model = new ConceptModel(encoder, interest, items);

        // (1) Self-supervised interest.
        var active = Enumerable.Range(0, users).Where(u => data.Histories[u].Length >= 2).ToArray();
        double interestNdcg = Phase(interest, "interest", options.InterestEpochs, active, options, rng, progress, cancellationToken,
            batch => InterestLoss(interest, items, batch.Select(u => data.Histories[u]).ToArray(), options, rng),
            () => Validate(data, u => model.InterestOf(data.Histories[u])), out int interestEpochs);

        // (2) Alignment of descriptions with the interests.
        Tensor targets;
        using (interest.EvalScope())
        using (GradMode.NoGrad()) targets = Ops.L2Normalize(interest.Forward(items, data.Histories));
        string PositiveText(int u, int phrasing) => parser.SplitByPolarity(data.Descriptions[u]![phrasing]).Positive;
        var textItems = Enumerable.Range(0, Math.Min(items.Dim(0), data.ItemTexts.Count)).Where(i => !string.IsNullOrWhiteSpace(data.ItemTexts[i])).ToArray();
        var described = active.Where(u => data.Descriptions[u] is { Count: > 0 } list && list.Any(t => parser.SplitByPolarity(t).Positive.Length > 0)).ToArray();
        double alignNdcg = Phase(encoder, "alignment", options.AlignmentEpochs, described, options, rng, progress, cancellationToken,
            batch =>
            {
                var texts = new List<string>(batch.Length);
                var rows = new List<int>(batch.Length);
                foreach (int u in batch)
                {
                    var list = data.Descriptions[u]!;
                    string text = PositiveText(u, rng.NextInt(list.Count));
                    if (text.Length == 0) continue;
                    texts.Add(text);
                    rows.Add(u);
                }
                var loss = AlignmentLoss(encoder, items, targets, rows.ToArray(), texts, rows.Select(u => data.Histories[u][rng.NextInt(data.Histories[u].Length)]).ToArray(), options);
                if (options.ItemTextWeight == 0 || textItems.Length == 0) return loss;
                var sample = Enumerable.Range(0, batch.Length).Select(_ => textItems[rng.NextInt(textItems.Length)]).ToArray();
                var c = encoder.Encode(sample.Select(i => data.ItemTexts[i]).ToArray());
                return loss + Ops.CrossEntropy(Ops.MatMul(c, items.Detach(), transposeB: true), sample) * options.ItemTextWeight;
            },
            () => Validate(data, u => model.Describe(data.Descriptions[u] is { Count: > 0 } l ? l[0] : "").Positive), out int alignEpochs);
        encoder.Eval();
        interest.Eval();
        if (options.FilterOnItemText && textItems.Length > 0)
        {
            var itemConcepts = new Tensor(items.Dim(0), d);
            using (GradMode.NoGrad())
                for (int s = 0; s < textItems.Length; s += 256)
                {
                    var chunk = textItems.AsSpan(s, Math.Min(256, textItems.Length - s)).ToArray();
                    var c = encoder.Encode(chunk.Select(i => data.ItemTexts[i]).ToArray());
                    for (int r = 0; r < chunk.Length; r++) c.Data.Slice(r * d, d).CopyTo(itemConcepts.Data.Slice(chunk[r] * d, d));
                }
            model.ItemConcepts = itemConcepts; // items without text stay zero: similarity 0
        }

        // (3) β of text cold start: described users served from the description alone, on their validation items.
        double coldNdcg = double.NaN;
        if (data.EmptyUserVector is { } empty && data.ValidationItems is not null)
        {
            progress?.Report(TrainingProgress.PhaseStarted("concepts", "choosing the cold-start steering"));
            var trials = ((float[])[0.5f, 1f, 2f, 4f, float.PositiveInfinity]).Select(beta => (Beta: beta, Ndcg: Validate(data, u =>
                data.Descriptions[u] is { Count: > 0 } l ? model.SteerNewUser(empty, model.Describe(l[0]), beta) : null))).ToArray();
            (model.ColdSteeringWeight, coldNdcg) = trials.MaxBy(t => t.Ndcg);
        }

        // (4) Steering and thresholds.
        double unfiltered = double.NaN, filtered = double.NaN;
        model.SteeringWeight = options.SteeringWeight ?? 0f;
        model.PositiveThreshold = options.PositiveThreshold ?? float.NegativeInfinity;
        model.NegativeThreshold = options.NegativeThreshold ?? 0.5f;
        if (data.ValidationItems is not null && data.UserVectors is not null)
        {
            progress?.Report(TrainingProgress.PhaseStarted("concepts", "choosing the filter thresholds"));
            (model.SteeringWeight, model.PositiveThreshold, model.NegativeThreshold, unfiltered, filtered) = Calibrate(model, data, options);
        }
        report = new ConceptReport(interestEpochs, interestNdcg, alignEpochs, alignNdcg, model.SteeringWeight, model.ColdSteeringWeight, coldNdcg,
            model.PositiveThreshold, model.NegativeThreshold, unfiltered, filtered, clock.Elapsed, bertReport);
        return model;
    }

    private static double Phase(Module module, string name, int epochs, int[] users, ConceptOptions o, Rng rng, IProgress<TrainingProgress>? progress,
        CancellationToken ct, Func<int[], Tensor> loss, Func<double> validate, out int ran)
    {
        ran = 0;
        if (epochs == 0 || users.Length < 2) return double.NaN;
        var optimizer = AdamW.Create(module.NamedParameters().Where(p => p.Parameter.RequiresGrad), o.LearningRate, o.WeightDecay);
        double best = double.NegativeInfinity;
        Dictionary<string, float[]>? bestState = null;
        int since = 0, stepsPerEpoch = (users.Length + o.BatchSize - 1) / o.BatchSize;
        long step = 0;
        var order = users.ToArray();
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            ct.ThrowIfCancellationRequested();
            module.Train();
            rng.Shuffle(order.AsSpan());
            double sum = 0;
            for (int s = 0; s < order.Length; s += o.BatchSize)
            {
                ct.ThrowIfCancellationRequested();
                var batch = order.AsSpan(s, Math.Min(o.BatchSize, order.Length - s)).ToArray();
                if (batch.Length < 2) continue;
                optimizer.ZeroGrad();
                var l = loss(batch);
                float value = l.ToScalar();
                if (!float.IsFinite(value)) throw new InvalidOperationException($"The {name} loss became {value} at step {step + 1}; training stopped.");
                l.Backward();
                Optimizer.ClipGradNorm(module.TrainableParameters(), 5f);
                optimizer.Step();
                sum += value;
                step++;
            }
            ran = epoch;
            module.Eval();
            double metric = validate();
            progress?.Report(new TrainingProgress(ProgressKind.Epoch, name, epoch, epochs, step, (long)epochs * stepsPerEpoch, sum / stepsPerEpoch, double.IsNaN(metric) ? null : metric, double.IsNaN(metric) ? null : "ndcg@10"));
            if (double.IsNaN(metric)) continue; // no validation: train all epochs
            if (metric > best)
            {
                best = metric;
                bestState = module.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.ToArray());
                since = 0;
            }
            else if (++since >= o.Patience) break;
        }
        if (bestState is not null)
            foreach (var (n, p) in module.NamedParameters()) bestState[n].CopyTo(p.Data);
        module.Eval();
        return bestState is null ? double.NaN : best;
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
        var z = interest.Forward(items, views);                    // (2B, D)
        var halves = Ops.Split(Ops.L2Normalize(z), 0, b, b);
        var contrastive = InfoNce(halves[0], halves[1], o.Temperature);
        if (o.ItemLossWeight == 0) return contrastive;
        return contrastive + Ops.CrossEntropy(Ops.MatMul(z, items.Detach(), transposeB: true), hidden) * o.ItemLossWeight;
    }

    private static Tensor AlignmentLoss(ConceptEncoder encoder, Tensor items, Tensor targets, int[] users, List<string> texts, int[] historyItems, ConceptOptions o)
    {
        var c = encoder.Encode(texts);                                       // (B, D)
        var t = Ops.Embedding(targets, users, users.Length); // (B, D), constant
        var loss = InfoNce(Ops.L2Normalize(c), t, o.Temperature, symmetric: false);
        if (o.ItemLossWeight == 0) return loss;
        return loss + Ops.CrossEntropy(Ops.MatMul(c, items.Detach(), transposeB: true), historyItems) * o.ItemLossWeight;
    }

    /// <summary>InfoNCE with in-batch negatives: row r of <paramref name="a"/> must pick row r of <paramref name="b"/> (and back when symmetric).</summary>
    private static Tensor InfoNce(Tensor a, Tensor b, float temperature, bool symmetric = true)
    {
        int n = a.Dim(0);
        var diagonal = Enumerable.Range(0, n).ToArray();
        var logits = Ops.MatMul(a, b, transposeB: true) * (1f / temperature);
        var forward = Ops.CrossEntropy(logits, diagonal);
        return symmetric ? (forward + Ops.CrossEntropy(Ops.TransposeLast2(logits), diagonal)) * 0.5f : forward;
    }

    /// <summary>Mean validation NDCG@10 of ranking by the given vectors (training items excluded); NaN without validation.</summary>
    private static double Validate(ConceptTrainingData data, Func<int, float[]?> vectorOf)
    {
        if (data.ValidationItems is null) return double.NaN;
        using var index = ItemIndex.Create(data.Items);
        double sum = 0;
        int count = 0;
        for (int u = 0; u < data.Histories.Count; u++)
        {
            var relevant = data.ValidationItems[u];
            if (relevant.Length == 0) continue;
            var v = vectorOf(u);
            count++;
            if (v is null) continue;
            var ranked = index.Rank(v, 10, new RankOptions { Filter = data.Histories[u].Length > 0 ? ItemFilter.Exclude(data.Histories[u]) : null });
            sum += RankingMetrics.Ndcg(ranked.Select(r => r.ItemIndex).ToArray(), relevant.ToHashSet(), 10);
        }
        return count == 0 ? double.NaN : sum / count;
    }

    private static (float Steering, float Positive, float Negative, double Unfiltered, double Filtered) Calibrate(ConceptModel model, ConceptTrainingData data, ConceptOptions o)
    {
        var users = Enumerable.Range(0, data.Histories.Count)
            .Where(u => data.ValidationItems![u].Length > 0 && data.Descriptions[u] is { Count: > 0 }).ToArray();
        float fixedPositive = o.PositiveThreshold ?? float.NaN, fixedNegative = o.NegativeThreshold ?? float.NaN;
        if (users.Length == 0) return (o.SteeringWeight ?? 0f, o.PositiveThreshold ?? float.NegativeInfinity, o.NegativeThreshold ?? 0.5f, double.NaN, double.NaN);
        var concepts = users.Select(u => model.Describe(data.Descriptions[u]![0])).ToArray();
        var vectors = data.UserVectors!(users);
        using var index = ItemIndex.Create(data.Items);
        int n = data.Items.Dim(0);
        var exclude = users.Select(u => ItemFilter.Exclude(data.Histories[u])).ToArray();
        var relevant = users.Select(u => data.ValidationItems![u].ToHashSet()).ToArray();

        float beta = 0;
        double removedShare = 0;
        double Ndcg(float theta, float thetaNeg)
        {
            double sum = 0;
            long removed = 0, positives = 0;
            for (int r = 0; r < users.Length; r++)
            {
                var filter = model.Filter(concepts[r], theta, thetaNeg);
                var ranked = index.Rank(model.Steer(vectors[r], concepts[r], beta), 10, new RankOptions { Filter = filter.IsActive ? ItemFilter.All(exclude[r], filter) : exclude[r] });
                sum += RankingMetrics.Ndcg(ranked.Select(x => x.ItemIndex).ToArray(), relevant[r], 10);
                if (filter.IsActive) removed += relevant[r].Count(i => !filter.Allows(i));
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
        // the most aggressive whose NDCG@10 is within FilterTolerance of the best of them.
        float Choose(IEnumerable<(float Theta, double Ndcg, double Removed)> scored, bool largest)
        {
            var allowed = scored.Where(s => s.Removed <= o.MaxPositiveRemoval).ToArray();
            double best = allowed.Max(s => s.Ndcg);
            var good = allowed.Where(s => s.Ndcg >= (1 - o.FilterTolerance) * best).Select(s => s.Theta);
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

        double unfiltered = Ndcg(float.NegativeInfinity, float.PositiveInfinity);
        if (o.SteeringWeight is float fixedBeta) beta = fixedBeta;
        else
        {
            var scored = new List<(float Beta, double Ndcg)>();
            foreach (float b in (float[])[0f, 0.1f, 0.2f, 0.35f, 0.5f, 0.75f, 1f])
            {
                beta = b;
                scored.Add((b, b == 0 ? unfiltered : Ndcg(float.NegativeInfinity, float.PositiveInfinity)));
            }
            beta = scored.MaxBy(s => s.Ndcg).Beta;
        }
        float theta = fixedPositive;
        if (float.IsNaN(theta))
        {
            var candidates = Quantiles(false, [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
            theta = Choose(candidates.Select(t => Score(t, t, float.PositiveInfinity)).Append(Score(float.NegativeInfinity, float.NegativeInfinity, float.PositiveInfinity)), largest: true);
        }
        float thetaNeg = fixedNegative;
        if (float.IsNaN(thetaNeg))
        {
            var candidates = Quantiles(true, [0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99]);
            thetaNeg = Choose(candidates.Select(t => Score(t, theta, t)).Append(Score(float.PositiveInfinity, theta, float.PositiveInfinity)), largest: false);
        }
        return (beta, theta, thetaNeg, unfiltered, Ndcg(theta, thetaNeg));
    }
}

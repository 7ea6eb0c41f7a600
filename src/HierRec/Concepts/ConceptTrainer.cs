using System.Diagnostics;
using HierRec.Modules;
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
/// can retrieve items; and the encoder reading an item's text must retrieve that item (<see cref="ConceptOptions.ItemTextWeight"/>).
/// (2b) The interest refined for <c>RecommendByInterest</c> once the alignment has read it: the views' agreement moves to
/// a projection head, and the result is kept only where validation NDCG@10 rises (<see cref="ConceptOptions.InterestRefinementEpochs"/>). (3) The steering of text cold start and (4) of known users, and the filter thresholds θ, θ⁻, are
/// chosen on validation data (<see cref="ConceptOptions.FilterTolerance"/>, <see cref="ConceptOptions.PositiveFilterTolerance"/>).
/// Each phase runs on <see cref="TrainingLoop"/> (constant rate, clipping at 5), stops early on validation NDCG@10 and
/// keeps its best epoch.
/// </summary>
public static partial class ConceptTrainer
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
        using var constant = TorchInterop.DetachedCopy(items);

        MlmReport? bertReport = null;
        var bert = options.Bert;
        if (bert is null)
        {
            progress?.Report(TrainingProgress.PhaseStarted("concepts", "pre-training the description BERT"));
            var corpus = data.ItemTexts.Concat(data.Descriptions.Where(x => x is not null).SelectMany(x => x!)).Where(t => !string.IsNullOrWhiteSpace(t)).ToArray();
            bert = DomainBert.Pretrain(corpus, options.DomainBert, out var r, progress, cancellationToken, items.device);
            bertReport = r;
        }
        ConceptEncoder? encoder = null;
        InterestEncoder? interest = null;
        try
        {
            bert.ApplyFineTuning(BertFineTuning.Frozen);
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
            Func<double>? validateInterest = data.ValidationItems is null ? null : () => Validate(data, index, u => model.InterestOf(data.Histories[u]));
            var (interestNdcg, interestEpochs) = Phase(interest, "interest", options.InterestEpochs, active, options, 1, progress, cancellationToken,
                (batch, r) => InterestLoss(interest, constant, batch.Select(u => data.Histories[u]).ToArray(), options, r), validateInterest);

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

            // (2b) The interest refined for serving (RecommendByInterest). The view agreement on I_u itself soon costs I_u's
            // retrieval (validation NDCG@10 peaks after an epoch or two and then falls by half or more), but that early I_u is
            // the better alignment target, so the alignment above read it. Here training goes on with the agreement moved to
            // a projection head (SimCLR's), which leaves I_u free to retrieve; the refined weights are kept only where
            // validation says they rank better.
            var (refinedNdcg, refinementEpochs) = RefineInterest(interest, constant, data.Histories, active, options, interestNdcg, progress, cancellationToken, validateInterest);
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
            model.GenericWords = CommonDescriptionWords.Find(encoder.Bert.Tokenizer!, t => encoder.Parser.SplitByPolarity(t).Positive, data.Descriptions, data.Histories, model.ItemRows, model.Dimension);

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
                ColdNeighbours: model.ColdNeighbours, ColdNeighbourTrials: neighbourTrials,
                InterestRefinementEpochs: refinementEpochs, RefinedInterestValidationNdcg: refinedNdcg);
            return model;
        }
        catch
        {
            // Cancelled or failed: the encoders (and a BERT pre-trained here) are freed now, not never.
            encoder?.Dispose();
            interest?.Dispose();
            if (options.Bert is null) bert.Dispose();
            throw;
        }
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

    /// <summary>
    /// The interest encoder and a projection head g, trained together; only the head is this object's own (the encoder
    /// belongs to the concept model, and disposing this wrapper would free it: dispose <see cref="Head"/> alone).
    /// </summary>
    private sealed class InterestWithHead : nn.Module
    {
        protected override void RegisterComponents() { }

        public InterestWithHead(InterestEncoder interest, Generator generator) : base(nameof(InterestWithHead))
        {
            Head = nn.Sequential(("in", Layers.Linear(interest.Dimension, interest.Dimension, generator)), ("relu", nn.ReLU()),
                ("out", Layers.Linear(interest.Dimension, interest.Dimension, generator)));
            register_module("interest", interest);
            register_module("head", Head);
        }

        public TorchSharp.Modules.Sequential Head { get; }
    }

    /// <summary>
    /// Trains the interest on with the views' agreement on g(I_u) instead of I_u; keeps the result only where its best
    /// validation NDCG@10 is above <paramref name="before"/> (always without validation data).
    /// </summary>
    internal static (double Best, int Epochs) RefineInterest(InterestEncoder interest, Tensor items, IReadOnlyList<int[]> histories, int[] active, ConceptOptions options,
        double before, IProgress<TrainingProgress>? progress, CancellationToken ct, Func<double>? validate)
    {
        if (options.InterestRefinementEpochs == 0 || active.Length < 2) return (double.NaN, 0);
        using var generator = new Generator(options.Seed ^ 0x1E7E);
        var training = new InterestWithHead(interest, generator);
        var start = TorchCheckpoint.Snapshot(interest);
        try
        {
            var (best, epochs) = Phase(training, "interest refinement", options.InterestRefinementEpochs, active, options, 3, progress, ct,
                (batch, r) => InterestLoss(interest, items, batch.Select(u => histories[u]).ToArray(), options, r, training.Head), validate);
            if (validate is not null && !double.IsNaN(before) && !(best > before))
            {
                TorchCheckpoint.Load(interest, start, "the interest before refinement");
                return (best, 0);
            }
            return (best, epochs);
        }
        finally
        {
            training.Head.Dispose();
            foreach (var t in start.Values) t.Dispose();
        }
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

    private static Tensor InterestLoss(InterestEncoder interest, Tensor items, int[][] histories, ConceptOptions o, Rng rng, nn.Module<Tensor, Tensor>? head = null)
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
        var unit = nn.functional.normalize(head is null ? z : head.forward(z), p: 2, dim: 1);
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
}

using HierRec.Training;
using TorchSharp;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace HierRec.Text;

/// <summary>
/// Masked-language-model pre-training (BERT's 15% rule with 80/10/10) of a <see cref="BertForMaskedLM"/> on domain texts
/// (item descriptions, user texts) on HierRec's one training loop (AdamW, warm-up then linear decay, clipping,
/// progress, checkpoints), with texts of similar length batched together. Held-out perplexity is measured with a fixed
/// masking so epochs are comparable.
/// </summary>
public static class MlmPretrainer
{
    /// <summary>
    /// Pre-trains <paramref name="model"/> (which needs a tokenizer on <c>model.Bert.Tokenizer</c>) on
    /// <see cref="TrainingLoop"/>; with held-out texts, the weights of the epoch with the lowest held-out perplexity are
    /// kept.
    /// </summary>
    /// <exception cref="InvalidOperationException">No tokenizer is attached, or the loss became non-finite.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; the model keeps its best weights so far.</exception>
    public static MlmReport Pretrain(BertForMaskedLM model, IReadOnlyList<string> trainTexts, IReadOnlyList<string> heldOutTexts,
        MlmOptions? options = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(trainTexts);
        ArgumentNullException.ThrowIfNull(heldOutTexts);
        options ??= new MlmOptions();
        options.Validate();
        if (trainTexts.Count == 0) throw new ArgumentException("No training texts.", nameof(trainTexts));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.BatchSize);
        var tokenizer = model.Bert.Tokenizer ?? throw new InvalidOperationException("Pre-training needs a tokenizer: set model.Bert.Tokenizer.");
        if (tokenizer.VocabularySize != model.Config.VocabSize)
            throw new InvalidOperationException($"The tokenizer has {tokenizer.VocabularySize} tokens but the model's vocab_size is {model.Config.VocabSize}.");
        int maxLength = Math.Min(options.MaxLength, model.Config.MaxPositionEmbeddings);
        var train = trainTexts.Select(t => tokenizer.Encode(t, maxLength: maxLength)).ToArray();
        var heldOut = heldOutTexts.Select(t => tokenizer.Encode(t, maxLength: maxLength)).ToArray();
        var specials = new HashSet<int>(tokenizer.SpecialTokenIds);
        double initial = Perplexity(model, heldOut, tokenizer, specials, options);
        var task = new MlmTask(model, train, heldOut, tokenizer, specials, options);
        var loop = new LoopOptions
        {
            Epochs = options.Epochs, MinEpochs = options.Epochs, Patience = options.Epochs, LearningRate = options.LearningRate, WeightDecay = options.WeightDecay,
            WarmupFraction = options.WarmupFraction, ClipNorm = options.ClipNorm, Seed = options.Seed, CheckpointFolder = options.CheckpointFolder,
        };
        var report = TrainingLoop.Run(task, loop, progress, cancellationToken);
        return new MlmReport(initial, report.Validation, report.EpochLosses, report.Steps, report.Elapsed);
    }

    /// <summary>The masked-LM loss and held-out perplexity for the shared loop.</summary>
    private sealed class MlmTask(BertForMaskedLM model, TokenizedText[] train, TokenizedText[] heldOut, BertTokenizer tokenizer, HashSet<int> specials, MlmOptions options) : ITrainingTask
    {
        public nn.Module Model => model;

        public string Phase => "pre-training BERT";

        public string? MetricName => heldOut.Length == 0 ? null : "perplexity";

        public bool LowerIsBetter => true;

        public int StepsPerEpoch => (train.Length + options.BatchSize - 1) / options.BatchSize;

        public IEnumerable<Func<Tensor?>> Epoch(int epoch, Rng rng)
        {
            foreach (var indices in LengthBuckets(train, options.BatchSize, rng))
            {
                var batch = BertBatch.FromEncodings(indices.Select(i => train[i]).ToList(), tokenizer.PaddingTokenId);
                var (masked, labels) = MlmMasking.Mask(batch, rng, tokenizer.MaskingTokenId, model.Config.VocabSize, specials, options.MaskProbability);
                if (labels.All(l => l == -100)) continue; // nothing to predict in this batch
                yield return () => model.Loss(masked, labels);
            }
        }

        public double Validate() => Perplexity(model, heldOut, tokenizer, specials, options);
    }

    /// <summary>
    /// Held-out perplexity exp(mean cross-entropy over masked tokens), with masking drawn from a fixed seed so repeated
    /// calls on the same model give the same value. Returns NaN when there is nothing to mask.
    /// </summary>
    public static double Perplexity(BertForMaskedLM model, IReadOnlyList<TokenizedText> texts, BertTokenizer tokenizer, IReadOnlySet<int> specials, MlmOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(options);
        if (texts.Count == 0) return double.NaN;
        var rng = new Rng(0x9E3779B97F4A7C15UL);
        double nll = 0;
        long count = 0;
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = torch.no_grad();
            for (int start = 0; start < texts.Count; start += options.BatchSize)
            {
                var chunk = texts.Skip(start).Take(options.BatchSize).ToList();
                var batch = BertBatch.FromEncodings(chunk, tokenizer.PaddingTokenId);
                var (masked, labels) = MlmMasking.Mask(batch, rng, tokenizer.MaskingTokenId, model.Config.VocabSize, specials, options.MaskProbability);
                int n = labels.Count(l => l != -100);
                if (n == 0) continue;
                using var loss = model.Loss(masked, labels);
                nll += loss.item<float>() * (double)n;
                count += n;
            }
        }
        finally
        {
            model.train(wasTraining);
        }
        return count == 0 ? double.NaN : Math.Exp(nll / count);
    }

    /// <summary>Shuffled batches of texts of similar length: shuffle, sort windows of 50 batches by length, shuffle the batches.</summary>
    internal static List<int[]> LengthBuckets(IReadOnlyList<TokenizedText> encodings, int batchSize, Rng rng)
    {
        var order = Enumerable.Range(0, encodings.Count).ToArray();
        rng.Shuffle(order.AsSpan());
        var batches = new List<int[]>();
        int window = batchSize * 50;
        for (int w = 0; w < order.Length; w += window)
        {
            var part = order.Skip(w).Take(window).OrderBy(i => encodings[i].Ids.Length).ToArray();
            for (int s = 0; s < part.Length; s += batchSize) batches.Add(part.Skip(s).Take(batchSize).ToArray());
        }
        var shuffled = batches.ToArray();
        rng.Shuffle(shuffled.AsSpan());
        return [.. shuffled];
    }
}

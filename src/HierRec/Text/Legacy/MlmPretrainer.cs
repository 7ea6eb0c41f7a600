using HierRec.Tensors;
using HierRec.Tensors.Autograd;
using HierRec.Tensors.Optimizers;
using HierRec.Text;

namespace HierRec.Text.Legacy;

/// <summary>
/// Masked-language-model pre-training (BERT's 15% rule with 80/10/10) of a <see cref="BertForMaskedLM"/> on domain texts
/// (item descriptions, user texts), with AdamW, warm-up then linear decay, clipping, and texts of similar length batched
/// together. Held-out perplexity is measured with a fixed masking so epochs are comparable.
/// </summary>
public static class MlmPretrainer
{
    /// <summary>Pre-trains <paramref name="model"/> (which needs a tokenizer on <c>model.Bert.Tokenizer</c>).</summary>
    /// <exception cref="InvalidOperationException">No tokenizer is attached.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; the model keeps the weights of the last finished step.</exception>
    public static MlmReport Pretrain(BertForMaskedLM model, IReadOnlyList<string> trainTexts, IReadOnlyList<string> heldOutTexts,
        MlmOptions? options = null, IProgress<MlmProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(trainTexts);
        ArgumentNullException.ThrowIfNull(heldOutTexts);
        options ??= new MlmOptions();
        if (trainTexts.Count == 0) throw new ArgumentException("No training texts.", nameof(trainTexts));
        var tokenizer = model.Bert.Tokenizer ?? throw new InvalidOperationException("Pre-training needs a tokenizer: set model.Bert.Tokenizer.");
        if (tokenizer.VocabularySize != model.Config.VocabSize)
            throw new InvalidOperationException($"The tokenizer has {tokenizer.VocabularySize} tokens but the model's vocab_size is {model.Config.VocabSize}.");
        int maxLength = Math.Min(options.MaxLength, model.Config.MaxPositionEmbeddings);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var train = trainTexts.Select(t => tokenizer.Encode(t, maxLength: maxLength)).ToArray();
        var heldOut = heldOutTexts.Select(t => tokenizer.Encode(t, maxLength: maxLength)).ToArray();
        var specials = new HashSet<int>(tokenizer.Options.SpecialTokens.Where(s => tokenizer.TryId(s, out _)).Select(tokenizer.Id));
        var rng = new Rng(options.Seed);

        int batchesPerEpoch = (train.Length + options.BatchSize - 1) / options.BatchSize;
        long total = (long)batchesPerEpoch * options.Epochs;
        var optimizer = AdamW.Create(model.NamedParameters(), options.LearningRate, options.WeightDecay);
        var schedule = new LinearWarmupDecaySchedule(options.LearningRate, (int)Math.Ceiling(total * options.WarmupFraction), (int)total);

        double initial = Perplexity(model, heldOut, tokenizer, specials, options);
        var perplexities = new List<double>();
        var losses = new List<double>();
        long step = 0;
        for (int epoch = 1; epoch <= options.Epochs; epoch++)
        {
            model.Train();
            double lossSum = 0;
            int lossCount = 0;
            foreach (var indices in HierRec.Text.MlmPretrainer.LengthBuckets(train, options.BatchSize, rng))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var batch = BertBatch.FromEncodings(indices.Select(i => train[i]).ToList(), tokenizer.PadId);
                var (masked, labels) = MlmMasking.Mask(batch, rng, tokenizer.MaskId, model.Config.VocabSize, specials, options.MaskProbability);
                if (labels.All(l => l == -100)) continue;
                schedule.Apply(optimizer);
                optimizer.ZeroGrad();
                var loss = model.Loss(masked, labels);
                float value = loss.ToScalar();
                if (!float.IsFinite(value)) throw new InvalidOperationException($"MLM loss became {value} at step {step + 1}; lower the learning rate.");
                loss.Backward();
                if (options.ClipNorm > 0) Optimizer.ClipGradNorm(model.TrainableParameters(), options.ClipNorm);
                optimizer.Step();
                step++;
                lossSum += value;
                lossCount++;
                progress?.Report(new MlmProgress(epoch, step, total, value, null));
            }
            double ppl = Perplexity(model, heldOut, tokenizer, specials, options);
            perplexities.Add(ppl);
            losses.Add(lossCount == 0 ? double.NaN : lossSum / lossCount);
            progress?.Report(new MlmProgress(epoch, step, total, (float)losses[^1], ppl));
        }
        model.Eval();
        return new MlmReport(initial, perplexities, losses, step, sw.Elapsed);
    }

    /// <summary>
    /// Held-out perplexity exp(mean cross-entropy over masked tokens), with masking drawn from a fixed seed so repeated
    /// calls on the same model give the same value. Returns NaN when there is nothing to mask.
    /// </summary>
    public static double Perplexity(BertForMaskedLM model, IReadOnlyList<Encoding> texts, BertTokenizer tokenizer, IReadOnlySet<int> specials, MlmOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (texts.Count == 0) return double.NaN;
        var rng = new Rng(0x9E3779B97F4A7C15UL);
        double nll = 0;
        long count = 0;
        using (model.EvalScope())
        using (GradMode.NoGrad())
        {
            for (int start = 0; start < texts.Count; start += options.BatchSize)
            {
                var chunk = texts.Skip(start).Take(options.BatchSize).ToList();
                var batch = BertBatch.FromEncodings(chunk, tokenizer.PadId);
                var (masked, labels) = MlmMasking.Mask(batch, rng, tokenizer.MaskId, model.Config.VocabSize, specials, options.MaskProbability);
                int n = labels.Count(l => l != -100);
                if (n == 0) continue;
                nll += model.Loss(masked, labels).ToScalar() * (double)n;
                count += n;
            }
        }
        return count == 0 ? double.NaN : Math.Exp(nll / count);
    }
}

/// <summary>Progress of pre-training, reported after every step and every epoch.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="Step">Steps done so far.</param>
/// <param name="TotalSteps">Steps planned.</param>
/// <param name="Loss">Mean loss of the last step.</param>
/// <param name="HeldOutPerplexity">Perplexity on the held-out texts at the end of an epoch; null after an ordinary step.</param>
public sealed record MlmProgress(int Epoch, long Step, long TotalSteps, float Loss, double? HeldOutPerplexity);

using HierRec.Tensors;
using HierRec.Tensors.Layers;
using HierRec.Tensors.Optimizers;
using HierRec.Text;
using HierRec.Text.Legacy;
using BertPooling = HierRec.Text.Legacy.BertPooling;
using BertForMaskedLM = HierRec.Text.Legacy.BertForMaskedLM;
using MlmPretrainer = HierRec.Text.Legacy.MlmPretrainer;

namespace HierRec.Tests.Text.Legacy;

/// <summary>Pre-trains a tiny BERT from generated text, then fine-tunes it in every mode.</summary>
public sealed class LegacyPretrainingTests
{
    private static readonly string[][] Genres =
    [
        ["detective", "murder", "crime", "police", "mystery"],
        ["laugh", "funny", "comedy", "joke", "silly"],
        ["space", "alien", "robot", "future", "planet"],
        ["love", "romance", "wedding", "heart", "kiss"],
    ];

    private static readonly string[] Frames = ["a {0} film about the {1} and the {2}", "the {0} story of a {1} with a {2}", "{0} {1} {2} in one movie", "this is a {0} tale where the {1} meets the {2}"];

    /// <summary>Sentences whose content words all come from one genre: predictable from context, so MLM can learn them.</summary>
    internal static List<(string Text, int Genre)> Corpus(int count, ulong seed)
    {
        var rng = new Rng(seed);
        var result = new List<(string, int)>(count);
        for (int i = 0; i < count; i++)
        {
            int g = rng.NextInt(Genres.Length);
            var w = Genres[g];
            string frame = Frames[rng.NextInt(Frames.Length)];
            result.Add((string.Format(System.Globalization.CultureInfo.InvariantCulture, frame, w[rng.NextInt(w.Length)], w[rng.NextInt(w.Length)], w[rng.NextInt(w.Length)]), g));
        }
        return result;
    }

    internal static BertForMaskedLM PretrainTiny(out MlmReport report, int epochs = 8)
    {
        var train = Corpus(800, 1).Select(c => c.Text).ToList();
        var heldOut = Corpus(120, 2).Select(c => c.Text).ToList();
        var vocab = WordPieceTrainer.Train(train, 120);
        var tokenizer = BertTokenizer.Create(vocab);
        var config = new BertConfig
        {
            VocabSize = tokenizer.VocabularySize, HiddenSize = 32, NumHiddenLayers = 2, NumAttentionHeads = 2,
            IntermediateSize = 64, MaxPositionEmbeddings = 32, HiddenDropoutProb = 0.0, AttentionProbsDropoutProb = 0.0,
        };
        var model = new BertForMaskedLM(config, new Rng(3));
        model.Bert.Tokenizer = tokenizer;
        report = MlmPretrainer.Pretrain(model, train, heldOut, new MlmOptions { Epochs = epochs, BatchSize = 16, LearningRate = 2e-3f, MaxLength = 32 });
        return model;
    }

    [Fact]
    public void MlmPretraining_HeldOutPerplexityFalls()
    {
        PretrainTiny(out var report);
        // Random init predicts ~uniformly over the ~120-token vocabulary; the held-out text is generated the same way
        // as the training text, so a model that learnt the genre co-occurrences must do far better.
        Assert.InRange(report.InitialPerplexity, 60, 400);
        Assert.True(report.EpochPerplexities[^1] < 0.25 * report.InitialPerplexity,
            $"perplexity {report.InitialPerplexity:F1} → {string.Join(" → ", report.EpochPerplexities.Select(p => p.ToString("F1")))}");
        Assert.True(report.EpochPerplexities[^1] < report.EpochPerplexities[0]);
    }

    public static TheoryData<string> Modes => ["full", "freeze-bottom-1", "lora", "frozen"];

    [Theory]
    [MemberData(nameof(Modes))]
    public void FineTuning_EachMode_LearnsAGenreClassifier(string modeName)
    {
        var mlm = PretrainTiny(out _);
        var bert = mlm.Bert;
        var mode = modeName switch
        {
            "full" => BertFineTuning.Full,
            "freeze-bottom-1" => BertFineTuning.FreezeBottom(1),
            "lora" => BertFineTuning.Lora(rank: 4, alpha: 8),
            _ => BertFineTuning.Frozen,
        };
        bert.ApplyFineTuning(mode);
        var head = new Linear(bert.HiddenSize, Genres.Length, new Rng(5));
        var named = bert.NamedParameters().Concat(head.NamedParameters().Select(p => ("head." + p.Name, p.Parameter))).ToList();
        var optimizer = AdamW.Create(named, 1e-2f);
        int bertTrainable = bert.TrainableParameters().Count();
        Assert.Equal(bertTrainable + 2, optimizer.StateCount);
        var tokenizer = bert.Tokenizer!;

        // Labels are the genre, which the content words reveal.
        var data = Corpus(256, 9);
        var test = Corpus(128, 10);
        bert.Train();
        var rng = new Rng(1);
        var order = Enumerable.Range(0, data.Count).ToArray();
        for (int epoch = 0; epoch < 8; epoch++)
        {
            rng.Shuffle(order.AsSpan());
            for (int s = 0; s < order.Length; s += 32)
            {
                var rows = order.Skip(s).Take(32).Select(i => data[i]).ToList();
                var batch = BertBatch.FromEncodings(rows.Select(r => tokenizer.Encode(r.Text)).ToList());
                var pooled = BertPooling.MaskedMean(bert.Forward(batch).LastHiddenState, batch.MaskTensor());
                optimizer.ZeroGrad();
                var loss = Ops.CrossEntropy(head.Forward(pooled), rows.Select(r => r.Genre).ToArray());
                loss.Backward();
                optimizer.Step();
            }
        }
        var x = bert.EncodeTexts(test.Select(t => t.Text).ToList(), PoolingKind.Mean);
        var logits = head.Forward(x);
        int correct = 0;
        for (int i = 0; i < test.Count; i++)
        {
            var row = logits.Data.Slice(i * Genres.Length, Genres.Length);
            int best = 0;
            for (int j = 1; j < row.Length; j++) if (row[j] > row[best]) best = j;
            if (best == test[i].Genre) correct++;
        }
        // Chance is 0.25. Feature extraction (frozen) is the weakest mode on a model this small; the others adapt BERT.
        double needed = mode.Kind == FineTuningKind.Frozen ? 0.6 : 0.85;
        Assert.True(correct / (double)test.Count > needed, $"{mode}: test accuracy {correct}/{test.Count}");
        if (mode.Kind == FineTuningKind.Lora)
        {
            Assert.Equal(8, bertTrainable);
            bert.MergeLora();
            var merged = head.Forward(bert.EncodeTexts(test.Select(t => t.Text).ToList(), PoolingKind.Mean));
            for (int i = 0; i < merged.Length; i++) Assert.Equal(logits.Data[i], merged.Data[i], 1e-4f);
        }
    }
}

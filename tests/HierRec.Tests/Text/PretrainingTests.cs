using HierRec.Text;
using HierRec.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace HierRec.Tests.Text;

/// <summary>Pre-trains a tiny TorchSharp BERT from generated text, then fine-tunes it in every mode.</summary>
public sealed class PretrainingTests
{
    internal static BertForMaskedLM PretrainTiny(out MlmReport report, int epochs = 8)
    {
        var train = GenreCorpus.Corpus(800, 1).Select(c => c.Text).ToList();
        var heldOut = GenreCorpus.Corpus(120, 2).Select(c => c.Text).ToList();
        var tokenizer = BertTokenizer.Create(WordPieceTrainer.Train(train, 120));
        var config = new BertConfig
        {
            VocabSize = tokenizer.VocabularySize, HiddenSize = 32, NumHiddenLayers = 2, NumAttentionHeads = 2,
            IntermediateSize = 64, MaxPositionEmbeddings = 32, HiddenDropoutProb = 0.0, AttentionProbsDropoutProb = 0.0,
        };
        var model = new BertForMaskedLM(config, seed: 3);
        model.Bert.Tokenizer = tokenizer;
        report = MlmPretrainer.Pretrain(model, train, heldOut, new MlmOptions { Epochs = epochs, BatchSize = 16, LearningRate = 2e-3f, MaxLength = 32 });
        return model;
    }

    [Fact]
    public void MlmPretraining_HeldOutPerplexityFalls()
    {
        using var model = PretrainTiny(out var report);
        Assert.InRange(report.InitialPerplexity, 60, 400);
        Assert.True(report.EpochPerplexities[^1] < 0.25 * report.InitialPerplexity,
            $"perplexity {report.InitialPerplexity:F1} → {string.Join(" → ", report.EpochPerplexities.Select(p => p.ToString("F1")))}");
        Assert.True(report.EpochPerplexities[^1] < report.EpochPerplexities[0]);
    }

    [Fact]
    public void MlmTrainingSteps_LeaveNoLiveTensorsBehind()
    {
        var texts = GenreCorpus.Corpus(64, 4).Select(c => c.Text).ToList();
        var tokenizer = BertTokenizer.Create(WordPieceTrainer.Train(texts, 100));
        var config = new BertConfig
        {
            VocabSize = tokenizer.VocabularySize, HiddenSize = 16, NumHiddenLayers = 2, NumAttentionHeads = 2,
            IntermediateSize = 32, MaxPositionEmbeddings = 32,
        };
        using var model = new BertForMaskedLM(config, seed: 1);
        model.Bert.Tokenizer = tokenizer;
        using var optimizer = Optimizers.AdamW(model.named_parameters(), 1e-3);
        var trainable = model.parameters().ToList();
        var batch = BertBatch.FromEncodings(texts.Take(16).Select(t => tokenizer.Encode(t)).ToList(), tokenizer.PaddingTokenId);
        var specials = new HashSet<int>(tokenizer.SpecialTokenIds);
        var rng = new Rng(2);
        model.train();
        void Step()
        {
            var (masked, labels) = MlmMasking.Mask(batch, rng, tokenizer.MaskingTokenId, config.VocabSize, specials);
            using var scope = torch.NewDisposeScope();
            optimizer.zero_grad();
            var loss = model.Loss(masked, labels);
            loss.backward();
            torch.nn.utils.clip_grad_norm_(trainable, 1.0);
            optimizer.step();
        }
        for (int i = 0; i < 3; i++) Step(); // gradients and optimizer state now exist
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 30; i++) Step();
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    public static TheoryData<string> Modes => ["full", "freeze-bottom-1", "lora", "frozen"];

    [Theory]
    [MemberData(nameof(Modes))]
    public void FineTuning_EachMode_LearnsAGenreClassifier(string modeName)
    {
        using var mlm = PretrainTiny(out _);
        var bert = mlm.Bert;
        var mode = modeName switch
        {
            "full" => BertFineTuning.Full,
            "freeze-bottom-1" => BertFineTuning.FreezeBottom(1),
            "lora" => BertFineTuning.Lora(rank: 4, alpha: 8),
            _ => BertFineTuning.Frozen,
        };
        bert.ApplyFineTuning(mode);
        torch.manual_seed(5);
        using var head = nn.Linear(bert.HiddenSize, 4);
        var named = bert.named_parameters().Concat(head.named_parameters().Select(p => ("head." + p.name, p.parameter)));
        using var optimizer = Optimizers.AdamW(named, 1e-2);
        var tokenizer = bert.Tokenizer!;
        var data = GenreCorpus.Corpus(256, 9);
        var test = GenreCorpus.Corpus(128, 10);
        bert.train();
        var rng = new Rng(1);
        var order = Enumerable.Range(0, data.Count).ToArray();
        for (int epoch = 0; epoch < 8; epoch++)
        {
            rng.Shuffle(order.AsSpan());
            for (int s = 0; s < order.Length; s += 32)
            {
                using var scope = torch.NewDisposeScope();
                var rows = order.Skip(s).Take(32).Select(i => data[i]).ToList();
                var batch = BertBatch.FromEncodings(rows.Select(r => tokenizer.Encode(r.Text)).ToList());
                var (ids, types, mask) = bert.ToTensors(batch);
                using var output = bert.Forward(ids, types, mask);
                var pooled = BertPooling.MaskedMean(output.LastHiddenState, mask);
                optimizer.zero_grad();
                var labels = torch.tensor(rows.Select(r => (long)r.Genre).ToArray());
                nn.functional.cross_entropy(head.forward(pooled), labels).backward();
                optimizer.step();
            }
        }
        double Accuracy()
        {
            using var scope = torch.NewDisposeScope();
            using var _ = torch.no_grad();
            var predicted = head.forward(bert.EncodeTexts(test.Select(t => t.Text).ToList(), PoolingKind.Mean)).argmax(1);
            var p = predicted.data<long>().ToArray();
            return Enumerable.Range(0, test.Count).Count(i => p[i] == test[i].Genre) / (double)test.Count;
        }
        double accuracy = Accuracy();
        // Chance is 0.25. Feature extraction (frozen) is the weakest mode on a model this small (57 % measured at seed 3
        // once the initialisation really followed the seed); the others adapt BERT.
        double needed = mode.Kind == FineTuningKind.Frozen ? 0.5 : 0.85;
        Assert.True(accuracy > needed, $"{mode}: test accuracy {accuracy:P1}");
        if (mode.Kind == FineTuningKind.Lora)
        {
            Assert.Equal(8, bert.named_parameters().Count(p => BertModel.IsLoraName(p.name)));
            bert.MergeLora();
            Assert.Equal(accuracy, Accuracy()); // merging changes no prediction
        }
    }
}

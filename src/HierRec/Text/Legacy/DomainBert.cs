using HierRec.Tensors;
using HierRec.Text;

namespace HierRec.Text.Legacy;

/// <summary>
/// Pre-trains a small BERT on a domain's texts when no checkpoint exists: a WordPiece vocabulary trained on the texts,
/// then masked-language-model pre-training (<see cref="MlmPretrainer"/>), returning the encoder with its tokenizer.
/// </summary>
public static class DomainBert
{
    /// <summary>Trains the vocabulary and the model; <paramref name="report"/> says how held-out perplexity moved.</summary>
    public static BertModel Pretrain(IReadOnlyList<string> texts, DomainBertOptions? options, out MlmReport report,
        IProgress<MlmProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        options ??= new DomainBertOptions();
        var nonEmpty = texts.Where(t => !string.IsNullOrWhiteSpace(t)).ToArray();
        if (nonEmpty.Length < 10) throw new ArgumentException($"Pre-training needs at least 10 non-empty texts; got {nonEmpty.Length}.", nameof(texts));
        var rng = new Rng(options.Seed);
        var order = Enumerable.Range(0, nonEmpty.Length).ToArray();
        rng.Shuffle(order.AsSpan());
        int held = Math.Max(1, (int)(nonEmpty.Length * options.HeldOutShare));
        var heldOut = order.Take(held).Select(i => nonEmpty[i]).ToArray();
        var train = order.Skip(held).Select(i => nonEmpty[i]).ToArray();
        var tokenizerOptions = new BertTokenizerOptions { LowerCase = options.LowerCase };
        var vocabulary = WordPieceTrainer.Train(train, options.VocabularySize, tokenizerOptions);
        var tokenizer = BertTokenizer.Create(vocabulary, tokenizerOptions);
        var config = new BertConfig
        {
            VocabSize = tokenizer.VocabularySize, HiddenSize = options.HiddenSize, NumHiddenLayers = options.Layers,
            NumAttentionHeads = options.Heads, IntermediateSize = 4 * options.HiddenSize, MaxPositionEmbeddings = Math.Max(64, options.MaxLength),
            PadTokenId = tokenizer.PadId,
        };
        var mlm = new BertForMaskedLM(config, rng.Fork());
        mlm.Bert.Tokenizer = tokenizer;
        report = MlmPretrainer.Pretrain(mlm, train, heldOut,
            new MlmOptions { Epochs = options.Epochs, BatchSize = 32, LearningRate = 2e-3f, MaxLength = options.MaxLength, Seed = options.Seed },
            progress, cancellationToken);
        mlm.Bert.Eval();
        return mlm.Bert;
    }
}

using static TorchSharp.torch;

namespace HierRec.Text;

/// <summary>
/// Pre-trains a small BERT on a domain's texts when no checkpoint exists: a WordPiece vocabulary trained on the texts,
/// then masked-language-model pre-training (<see cref="MlmPretrainer"/>), returning the encoder with its tokenizer.
/// </summary>
public static class DomainBert
{
    /// <summary>Trains the vocabulary and the model; <paramref name="report"/> says how held-out perplexity moved.</summary>
    /// <param name="texts">The domain's texts (item texts, descriptions); at least 10 non-empty.</param>
    /// <param name="options">Size and training.</param>
    /// <param name="report">Held-out perplexity before and after each epoch.</param>
    /// <param name="progress">Progress of the pre-training steps and epochs.</param>
    /// <param name="cancellationToken">Cancellation between steps.</param>
    /// <param name="device">Where the model lives (CPU when null).</param>
    public static BertModel Pretrain(IReadOnlyList<string> texts, DomainBertOptions? options, out MlmReport report,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(texts);
        options ??= new DomainBertOptions();
        options.Validate();
        var nonEmpty = texts.Where(t => !string.IsNullOrWhiteSpace(t)).ToArray();
        if (nonEmpty.Length < 10) throw new ArgumentException($"Pre-training needs at least 10 non-empty texts; got {nonEmpty.Length}.", nameof(texts));
        var rng = new Rng(options.Seed);
        var order = Enumerable.Range(0, nonEmpty.Length).ToArray();
        rng.Shuffle(order.AsSpan());
        int held = Math.Max(1, (int)(nonEmpty.Length * options.HeldOutShare));
        var heldOut = order.Take(held).Select(i => nonEmpty[i]).ToArray();
        var train = order.Skip(held).Select(i => nonEmpty[i]).ToArray();
        progress?.Report(TrainingProgress.PhaseStarted("pre-training BERT", $"training a {options.VocabularySize}-token WordPiece vocabulary on {train.Length} texts"));
        var tokenizerOptions = new BertTokenizerOptions { LowerCase = options.LowerCase };
        var vocabulary = WordPieceTrainer.Train(train, options.VocabularySize, tokenizerOptions);
        var tokenizer = BertTokenizer.Create(vocabulary, tokenizerOptions);
        var config = new BertConfig
        {
            VocabSize = tokenizer.VocabularySize, HiddenSize = options.HiddenSize, NumHiddenLayers = options.Layers,
            NumAttentionHeads = options.Heads, IntermediateSize = 4 * options.HiddenSize, MaxPositionEmbeddings = Math.Max(64, options.MaxLength),
            PadTokenId = tokenizer.PaddingTokenId,
        };
        var mlm = new BertForMaskedLM(config, (long)(options.Seed & long.MaxValue), device);
        mlm.Bert.Tokenizer = tokenizer;
        progress?.Report(TrainingProgress.PhaseStarted("pre-training BERT",
            $"masked-LM pre-training of a {options.Layers}-layer, {options.HiddenSize}-wide BERT for {options.Epochs} epochs on {train.Length} texts ({heldOut.Length} held out)"));
        try
        {
            report = MlmPretrainer.Pretrain(mlm, train, heldOut,
                new MlmOptions { Epochs = options.Epochs, BatchSize = 32, LearningRate = 2e-3f, MaxLength = options.MaxLength, Seed = options.Seed },
                progress, cancellationToken);
        }
        catch
        {
            mlm.Dispose(); // cancelled or failed: nothing of it is handed out
            throw;
        }
        // Only the encoder is handed out; the masked-LM head's tensors are freed now rather than left to the GC, which
        // never frees a libtorch module's memory (its decoder is tied to the word embeddings, which it does not hold).
        mlm.Cls.Dispose();
        mlm.Bert.eval();
        return mlm.Bert;
    }
}

using HierRec.Data;
using HierRec.Evaluation;
using HierRec.Text;
using HierRec.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace HierRec.Baselines;

/// <summary>
/// What <see cref="SasRec"/> and <see cref="Bert4Rec"/> share, as RecBole builds them: item and position embeddings
/// summed, LayerNorm, dropout, then post-LN transformer layers (HierRec's <see cref="BertLayer"/>), scored against the
/// item embeddings (tied). Item tokens are the dense item index + 1; 0 pads, <see cref="MaskToken"/> is BERT4Rec's mask.
/// Sequences are left-aligned (padding after the items), at most <see cref="SequentialOptions.MaxLength"/> long.
/// </summary>
/// <remarks>
/// <see cref="ScoreUsers"/> reads each user's training items in time order; <see cref="WithHistory"/> scores from other
/// interactions (the training and validation items at test time, as RecBole's sequential protocol feeds them).
/// </remarks>
public abstract class SequenceTransformer : nn.Module, IScoringModel
{
    /// <summary>Registers nothing by reflection: the constructor registers every component by name (<see cref="Training.TorchCheckpoint.State"/> says why).</summary>
    protected override void RegisterComponents() { }

    private const float Masked = -1e9f;

    // Kept alive by the field (see Scalars: implicit Scalars can be finalized mid-call).
    private static readonly Scalar MaskedScalar = Scalars.Constant(Masked);
    private readonly Embedding _itemEmbedding, _positionEmbedding;
    private readonly LayerNorm _norm;
    private readonly Dropout _dropout;
    private readonly BertLayer[] _layers;
    private readonly int[][] _sequences;

    private protected SequenceTransformer(string name, Dataset train, SequentialOptions o, float dropout, Generator generator)
        : this(name, train.ItemCount, Chronological(train), o, dropout, generator) { }

    /// <summary>A model over <paramref name="itemCount"/> items whose <see cref="ScoreUsers"/> reads <paramref name="sequences"/> (empty for a loaded model).</summary>
    private protected SequenceTransformer(string name, int itemCount, int[][] sequences, SequentialOptions o, float dropout, Generator generator) : base(name)
    {
        ItemCount = itemCount;
        Options = o;
        _sequences = sequences;
        _itemEmbedding = nn.Embedding(ItemCount + 2, o.Hidden);
        _positionEmbedding = nn.Embedding(o.MaxLength, o.Hidden);
        using (torch.NewDisposeScope()) // the getters' fresh wrappers die here, not on the finalizer thread mid-call
        using (torch.no_grad())
        {
            _itemEmbedding.weight!.normal_(0, 0.02, generator);
            _positionEmbedding.weight!.normal_(0, 0.02, generator);
        }
        _norm = nn.LayerNorm([o.Hidden], 1e-12);
        _dropout = nn.Dropout(dropout);
        var config = new BertConfig
        {
            HiddenSize = o.Hidden, NumAttentionHeads = o.Heads, IntermediateSize = o.Inner, HiddenDropoutProb = dropout,
            AttentionProbsDropoutProb = dropout, HiddenAct = "gelu", LayerNormEps = 1e-12, InitializerRange = 0.02,
        };
        _layers = Enumerable.Range(0, o.Layers).Select(_ => new BertLayer(config, generator)).ToArray();
        register_module("item_embedding", _itemEmbedding);
        register_module("position_embedding", _positionEmbedding);
        register_module("LayerNorm", _norm);
        register_module("dropout", _dropout);
        for (int l = 0; l < _layers.Length; l++) register_module($"layer_{l}", _layers[l]);
    }

    /// <summary>The options.</summary>
    public SequentialOptions Options { get; }

    /// <inheritdoc/>
    public int ItemCount { get; }

    /// <inheritdoc/>
    public int MaxParallelism => 1;

    /// <summary>The epoch whose weights were kept.</summary>
    public int BestEpoch { get; private protected set; }

    /// <summary>BERT4Rec's mask token (item count + 1).</summary>
    protected int MaskToken => ItemCount + 1;

    /// <summary>Whether attention is causal (SASRec) or bidirectional (BERT4Rec).</summary>
    private protected abstract bool Causal { get; }

    /// <summary>Every user's items in time order (ties keep the source order), as dense item indices.</summary>
    internal static int[][] Chronological(params Dataset[] parts)
    {
        int users = parts[0].UserCount;
        var lists = Enumerable.Range(0, users).Select(_ => new List<(long Time, int Part, int Order, int Item)>()).ToArray();
        for (int p = 0; p < parts.Length; p++)
        {
            int order = 0;
            foreach (var x in parts[p].Interactions) lists[x.User].Add((x.Timestamp, p, order++, x.Item));
        }
        return lists.Select(l => l.OrderBy(e => e.Time).ThenBy(e => e.Part).ThenBy(e => e.Order).Select(e => e.Item).ToArray()).ToArray();
    }

    /// <summary>Hidden states (B, T, H) of token ids (B, T), padding 0.</summary>
    private protected Tensor Encode(Tensor ids)
    {
        long b = ids.shape[0], t = ids.shape[1];
        var positions = Scalars.Arange(t, ids.device);
        var x = _dropout.forward(_norm.forward(_itemEmbedding.forward(ids).Plus(_positionEmbedding.forward(positions))));
        var bias = ids.EqualTo(0).to_type(ScalarType.Float32).mul(MaskedScalar).view(b, 1, 1, t);       // padded keys
        if (Causal) bias = bias.Plus(torch.ones(t, t, device: ids.device).triu(1).mul(MaskedScalar).view(1, 1, t, t)); // future keys
        foreach (var layer in _layers) x = layer.forward(x, bias);
        return x;
    }

    /// <summary>Scores (rows, items) of hidden states (rows, H) against the item embeddings (tokens 1 … n).</summary>
    private protected Tensor Logits(Tensor hidden) => hidden.matmul(_itemEmbedding.weight!.narrow(0, 1, ItemCount).t());

    /// <summary>(B, T) int64 tensor of left-aligned token rows padded with 0.</summary>
    private protected static Tensor Tokens(IReadOnlyList<int[]> rows, int length, Device device)
    {
        var data = new long[rows.Count * length];
        for (int r = 0; r < rows.Count; r++)
            for (int j = 0; j < rows[r].Length; j++) data[r * length + j] = rows[r][j];
        return torch.tensor(data, [rows.Count, length], device: device);
    }

    /// <summary>The model's input for scoring a user whose items in time order are <paramref name="sequence"/>: tokens and the position read.</summary>
    private protected abstract (int[] Tokens, int Read) ScoringInput(int[] sequence);

    /// <inheritdoc/>
    public void ScoreUsers(ReadOnlySpan<int> users, Span<float> scores) => Score(_sequences, users, scores);

    /// <summary>Scores from the users' items in <paramref name="histories"/> (in time order, parts in the order given).</summary>
    public IScoringModel WithHistory(params Dataset[] histories)
    {
        ArgumentNullException.ThrowIfNull(histories);
        if (histories.Length == 0) throw new ArgumentException("Give at least one dataset of history.", nameof(histories));
        foreach (var h in histories)
            if (h.ItemCount != ItemCount) throw new ArgumentException($"{h.Name} has {h.ItemCount} items; the model has {ItemCount}.", nameof(histories));
        return new HistoryView(this, Chronological(histories));
    }

    private void Score(int[][] sequences, ReadOnlySpan<int> users, Span<float> scores)
    {
        var batch = new int[users.Length][];
        for (int k = 0; k < users.Length; k++) batch[k] = (uint)users[k] < (uint)sequences.Length ? sequences[users[k]] : [];
        Read(batch, last => TorchInterop.ToFloats(Logits(last))).CopyTo(scores);
    }

    /// <summary>
    /// The hidden state the model scores from (the state at the position <see cref="ScoringInput"/> reads) of each item
    /// sequence in time order, row-major (sequences × <see cref="SequentialOptions.Hidden"/>); in batches of 256.
    /// </summary>
    internal float[] States(IReadOnlyList<int[]> sequences)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        int h = Options.Hidden;
        var result = new float[(long)sequences.Count * h];
        for (int s = 0; s < sequences.Count; s += 256)
        {
            int n = Math.Min(256, sequences.Count - s);
            var batch = new int[n][];
            for (int k = 0; k < n; k++)
            {
                batch[k] = sequences[s + k] ?? throw new ArgumentException($"Sequence {s + k} is null.", nameof(sequences));
                foreach (int i in batch[k])
                    if ((uint)i >= (uint)ItemCount) throw new ArgumentOutOfRangeException(nameof(sequences), i, $"Item {i} of sequence {s + k} is outside the {ItemCount} items.");
            }
            Read(batch, TorchInterop.ToFloats).CopyTo(result.AsSpan(s * h, n * h));
        }
        return result;
    }

    /// <summary>The item embeddings the hidden states are scored against, row-major (items × <see cref="SequentialOptions.Hidden"/>).</summary>
    internal float[] ItemRows()
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        return TorchInterop.ToFloats(_itemEmbedding.weight!.narrow(0, 1, ItemCount));
    }

    /// <summary>Runs the model in evaluation mode on <paramref name="sequences"/> and returns what <paramref name="use"/> makes of the read states (B, H).</summary>
    private float[] Read(int[][] sequences, Func<Tensor, float[]> use)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        bool was = training;
        eval();
        try
        {
            var device = _itemEmbedding.weight!.device;
            var inputs = new List<int[]>(sequences.Length);
            var read = new long[sequences.Length];
            for (int k = 0; k < sequences.Length; k++)
            {
                var (tokens, at) = ScoringInput(sequences[k]);
                inputs.Add(tokens);
                read[k] = at;
            }
            var hidden = Encode(Tokens(inputs, Options.MaxLength, device));                       // (B, T, H)
            var index = torch.tensor(read, device: device).view(-1, 1, 1).expand(-1, 1, Options.Hidden);
            return use(hidden.gather(1, index).squeeze(1));                                       // (B, H)
        }
        finally
        {
            train(was);
        }
    }

    /// <summary>The training windows of every user's sequence: consecutive, from the end, of at most <paramref name="length"/> items, overlapping by <paramref name="overlap"/>.</summary>
    private protected int[][] Windows(int length, int overlap)
    {
        var windows = new List<int[]>();
        foreach (var s in _sequences)
        {
            int end = s.Length;
            while (end - overlap > 0 && end > 1)
            {
                int start = Math.Max(0, end - length);
                windows.Add(s[start..end]);
                if (start == 0) break;
                end = start + overlap;
            }
        }
        return windows.ToArray();
    }

    /// <summary>Runs the shared loop with the subclass's loss of a batch of windows.</summary>
    private protected void Train(Dataset train, Dataset? validation, int[][] windows, Func<int[][], Rng, Tensor?> loss, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        if (windows.Length == 0) throw new ArgumentException($"The training data '{train.Name}' has no user with two or more items to learn a sequence from.", nameof(train));
        var task = new WindowTask(this, train, validation, windows, Options.BatchSize, loss);
        var o = Options;
        // Called by Fit only, on the model it built: cancelled or failed, its native memory is freed now.
        var report = TrainingLoop.RunOrDispose(this, task, BprTraining.Loop(o.LearningRate, o.MaxEpochs, o.Patience, o.Seed, o.MinEpochs), progress, cancellationToken);
        BestEpoch = report.BestEpoch;
    }

    private sealed class HistoryView(SequenceTransformer model, int[][] sequences) : IScoringModel
    {
        public int ItemCount => model.ItemCount;

        public int MaxParallelism => 1;

        public void ScoreUsers(ReadOnlySpan<int> users, Span<float> scores) => model.Score(sequences, users, scores);
    }

    private sealed class WindowTask(SequenceTransformer model, Dataset train, Dataset? validation, int[][] windows, int batchSize, Func<int[][], Rng, Tensor?> loss)
        : ValidatedTask(model, model, train, validation)
    {
        public override int StepsPerEpoch => (windows.Length + batchSize - 1) / batchSize;

        public override string DataFingerprint => $"{model.ItemCount} items, {windows.Length} windows of {windows.Sum(w => (long)w.Length)} items";

        public override IEnumerable<Func<Tensor?>> Epoch(int epoch, Rng rng)
        {
            var order = Enumerable.Range(0, windows.Length).ToArray();
            rng.Shuffle(order.AsSpan());
            for (int s = 0; s < order.Length; s += batchSize)
            {
                var batch = order.AsSpan(s, Math.Min(batchSize, order.Length - s)).ToArray().Select(i => windows[i]).ToArray();
                yield return () => loss(batch, rng);
            }
        }
    }
}

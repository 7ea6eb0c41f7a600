using HierRec.Tensors;
using HierRec.Tensors.Layers;
using HierRec.Text;

namespace HierRec.Text.Legacy;

/// <summary>The engine's (float) mask of a <see cref="BertBatch"/>.</summary>
public static class BertBatchExtensions
{
    /// <summary>The mask as a (batch, length) float tensor.</summary>
    public static Tensor MaskTensor(this BertBatch batch)
    {
        var t = new Tensor(batch.BatchSize, batch.Length);
        var d = t.Data;
        for (int i = 0; i < d.Length; i++) d[i] = batch.AttentionMask[i];
        return t;
    }
}

// The sub-modules of BertModel. Class and member names follow Hugging Face's modeling_bert.py so that parameter names
// (embeddings.word_embeddings.weight, encoder.layer.0.attention.self.query.weight, …) are those of a Hugging Face
// checkpoint, and a model.safetensors moves between HierRec, PyTorch and TorchSharp unchanged.

/// <summary>Word + position + token-type embeddings, then LayerNorm and dropout (<c>embeddings.*</c>).</summary>
public sealed class BertEmbeddings : Module
{
    /// <summary>Creates the block with N(0, initializer_range) tables and the [PAD] row zeroed, as Hugging Face does.</summary>
    public BertEmbeddings(BertConfig config, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(config);
        float std = (float)config.InitializerRange;
        WordEmbeddings = RegisterModule("word_embeddings", new Embedding(config.VocabSize, config.HiddenSize, rng, std));
        PositionEmbeddings = RegisterModule("position_embeddings", new Embedding(config.MaxPositionEmbeddings, config.HiddenSize, rng, std));
        TokenTypeEmbeddings = RegisterModule("token_type_embeddings", new Embedding(config.TypeVocabSize, config.HiddenSize, rng, std));
        LayerNorm = RegisterModule("LayerNorm", new LayerNorm(config.HiddenSize, (float)config.LayerNormEps));
        Dropout = RegisterModule("dropout", new Dropout((float)config.HiddenDropoutProb, rng));
        WordEmbeddings.Weight.Data.Slice(config.PadTokenId * config.HiddenSize, config.HiddenSize).Clear();
    }

    /// <summary>(vocab, H)</summary>
    public Embedding WordEmbeddings { get; }

    /// <summary>(max positions, H)</summary>
    public Embedding PositionEmbeddings { get; }

    /// <summary>(type vocab, H)</summary>
    public Embedding TokenTypeEmbeddings { get; }

    /// <summary>Norm of the summed embeddings.</summary>
    public LayerNorm LayerNorm { get; }

    /// <summary>Hidden dropout.</summary>
    public Dropout Dropout { get; }

    /// <summary>(batch, length, H) embeddings of <paramref name="batch"/>.</summary>
    public Tensor Forward(BertBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        int b = batch.BatchSize, t = batch.Length;
        var positions = new int[t];
        for (int i = 0; i < t; i++) positions[i] = i;
        var words = WordEmbeddings.Forward(batch.InputIds, b, t);
        var types = TokenTypeEmbeddings.Forward(batch.TokenTypeIds, b, t);
        var pos = PositionEmbeddings.Forward(positions, t); // (T, H) broadcast over the batch
        return Dropout.Forward(LayerNorm.Forward((words + types) + pos));
    }
}

/// <summary>Query, key and value projections and multi-head scaled dot-product attention (<c>attention.self.*</c>).</summary>
public sealed class BertSelfAttention : Module
{
    private readonly Rng? _rng;

    /// <summary>Creates the projections.</summary>
    public BertSelfAttention(BertConfig config, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(config);
        float std = (float)config.InitializerRange;
        int h = config.HiddenSize;
        Heads = config.NumAttentionHeads;
        Query = RegisterModule("query", new Linear(h, h, rng, initStd: std));
        Key = RegisterModule("key", new Linear(h, h, rng, initStd: std));
        Value = RegisterModule("value", new Linear(h, h, rng, initStd: std));
        AttentionDropout = (float)config.AttentionProbsDropoutProb;
        _rng = AttentionDropout > 0 ? rng.Fork() : null;
    }

    /// <summary>Heads.</summary>
    public int Heads { get; }

    /// <summary>Dropout on attention probabilities (training mode only).</summary>
    public float AttentionDropout { get; }

    /// <summary>Query projection (LoRA target).</summary>
    public Linear Query { get; }

    /// <summary>Key projection.</summary>
    public Linear Key { get; }

    /// <summary>Value projection (LoRA target).</summary>
    public Linear Value { get; }

    /// <summary>x (B, T, H), key mask (B, T) → context (B, T, H); probabilities (B, heads, T, T) when requested.</summary>
    public Tensor Forward(Tensor x, Tensor? keyMask, out Tensor? probabilities, bool keepProbabilities)
        => Ops.Attention(Query.Forward(x), Key.Forward(x), Value.Forward(x), Heads, keyMask, out probabilities, keepProbabilities,
            IsTraining ? AttentionDropout : 0f, _rng);
}

/// <summary>Dense projection, dropout, residual and LayerNorm (<c>attention.output.*</c> and <c>output.*</c>).</summary>
public sealed class BertResidualOutput : Module
{
    /// <summary>Creates dense (in → H), LayerNorm and dropout.</summary>
    public BertResidualOutput(BertConfig config, int inFeatures, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(config);
        Dense = RegisterModule("dense", new Linear(inFeatures, config.HiddenSize, rng, initStd: (float)config.InitializerRange));
        LayerNorm = RegisterModule("LayerNorm", new LayerNorm(config.HiddenSize, (float)config.LayerNormEps));
        Dropout = RegisterModule("dropout", new Dropout((float)config.HiddenDropoutProb, rng));
    }

    /// <summary>The projection.</summary>
    public Linear Dense { get; }

    /// <summary>Post-residual norm.</summary>
    public LayerNorm LayerNorm { get; }

    /// <summary>Hidden dropout.</summary>
    public Dropout Dropout { get; }

    /// <summary>LayerNorm(Dropout(Dense(h)) + residual).</summary>
    public Tensor Forward(Tensor h, Tensor residual) => LayerNorm.Forward(Dropout.Forward(Dense.Forward(h)) + residual);
}

/// <summary>Self-attention and its output block (<c>attention.*</c>).</summary>
public sealed class BertAttention : Module
{
    /// <summary>Creates the block.</summary>
    public BertAttention(BertConfig config, Rng rng)
    {
        Self = RegisterModule("self", new BertSelfAttention(config, rng));
        Output = RegisterModule("output", new BertResidualOutput(config, config.HiddenSize, rng));
    }

    /// <summary>Q, K, V and attention.</summary>
    public BertSelfAttention Self { get; }

    /// <summary>Output projection, residual and norm.</summary>
    public BertResidualOutput Output { get; }
}

/// <summary>The feed-forward expansion with GELU (<c>intermediate.dense</c>).</summary>
public sealed class BertIntermediate : Module
{
    /// <summary>Creates dense (H → I).</summary>
    public BertIntermediate(BertConfig config, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(config);
        Dense = RegisterModule("dense", new Linear(config.HiddenSize, config.IntermediateSize, rng, initStd: (float)config.InitializerRange));
    }

    /// <summary>The expansion.</summary>
    public Linear Dense { get; }

    /// <summary>GELU(Dense(x)).</summary>
    public Tensor Forward(Tensor x) => Ops.Gelu(Dense.Forward(x));
}

/// <summary>One post-LN encoder layer (<c>encoder.layer.N.*</c>).</summary>
public sealed class BertLayer : Module
{
    /// <summary>Creates the layer.</summary>
    public BertLayer(BertConfig config, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(config);
        Attention = RegisterModule("attention", new BertAttention(config, rng));
        Intermediate = RegisterModule("intermediate", new BertIntermediate(config, rng));
        Output = RegisterModule("output", new BertResidualOutput(config, config.IntermediateSize, rng));
    }

    /// <summary>Attention block.</summary>
    public BertAttention Attention { get; }

    /// <summary>Feed-forward expansion.</summary>
    public BertIntermediate Intermediate { get; }

    /// <summary>Feed-forward projection, residual and norm.</summary>
    public BertResidualOutput Output { get; }

    /// <summary>x (B, T, H), key mask (B, T) → (B, T, H); attention probabilities when requested.</summary>
    public Tensor Forward(Tensor x, Tensor? keyMask, out Tensor? probabilities, bool keepProbabilities = false)
    {
        var context = Attention.Self.Forward(x, keyMask, out probabilities, keepProbabilities);
        var h = Attention.Output.Forward(context, x);
        return Output.Forward(Intermediate.Forward(h), h);
    }
}

/// <summary>The layer stack (<c>encoder.layer.*</c>).</summary>
public sealed class BertEncoder : Module
{
    /// <summary>Creates num_hidden_layers layers.</summary>
    public BertEncoder(BertConfig config, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(config);
        Layer = RegisterModule("layer", new ModuleList<BertLayer>(Enumerable.Range(0, config.NumHiddenLayers).Select(_ => new BertLayer(config, rng)).ToList()));
    }

    /// <summary>The layers, bottom first.</summary>
    public ModuleList<BertLayer> Layer { get; }
}

/// <summary>Hugging Face's pooler: tanh(Dense(h[CLS])) (<c>pooler.dense</c>).</summary>
public sealed class BertPooler : Module
{
    /// <summary>Creates dense (H → H).</summary>
    public BertPooler(BertConfig config, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(config);
        Dense = RegisterModule("dense", new Linear(config.HiddenSize, config.HiddenSize, rng, initStd: (float)config.InitializerRange));
    }

    /// <summary>The projection.</summary>
    public Linear Dense { get; }

    /// <summary>hidden (B, T, H) → (B, H).</summary>
    public Tensor Forward(Tensor hidden) => Ops.Tanh(Dense.Forward(BertPooling.FirstToken(hidden)));
}

using TorchSharp;
using static TorchSharp.torch;

namespace HierRec.Text;

/// <summary>
/// BERT (Devlin et al., 2019) on TorchSharp: embeddings, a stack of post-LN encoder layers and an optional pooler, with
/// exactly Hugging Face <c>BertModel</c>'s parameter names, so <c>model.safetensors</c> and <c>config.json</c> move
/// between HierRec and PyTorch (transformers) unchanged.
/// </summary>
/// <remarks>
/// <para>The model lives on one <see cref="Device"/> (the CPU unless created or moved elsewhere with
/// <c>model.to(device)</c>); inputs built from a <see cref="BertBatch"/> are created there.</para>
/// <para>Thread-safety: training is single-threaded. Concurrent inference (eval mode, under <c>torch.no_grad()</c>)
/// is safe because a forward pass does not change the model.</para>
/// </remarks>
/// <example>
/// <code>
/// using var bert = BertModel.Load("models/my-bert");
/// using var vectors = bert.EncodeTexts(itemTexts, PoolingKind.Mean);   // (n, H)
/// </code>
/// </example>
public sealed partial class BertModel : nn.Module<BertBatch, BertModelOutput>
{
    /// <summary>Registers nothing by reflection: the constructor registers every component by name (<see cref="Training.TorchCheckpoint.State"/> says why).</summary>
    protected override void RegisterComponents() { }

    /// <summary>Creates a randomly initialised model (Hugging Face's initialisation: N(0, initializer_range), zero biases).</summary>
    /// <param name="config">Architecture; validated.</param>
    /// <param name="seed">Seed of the initialisation.</param>
    /// <param name="addPooler">Whether to create <c>pooler.dense</c>.</param>
    /// <param name="device">Where the parameters live (CPU when null).</param>
    public BertModel(BertConfig config, long seed = 0, bool addPooler = true, Device? device = null) : base(nameof(BertModel))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        Seed = seed;
        using var generator = new Generator((ulong)seed);
        Embeddings = new BertEmbeddings(config, generator);
        Encoder = new BertEncoder(config, generator);
        register_module("embeddings", Embeddings);
        register_module("encoder", Encoder);
        if (addPooler)
        {
            Pooler = new BertPooler(config, generator);
            register_module("pooler", Pooler);
        }
        if (device is not null && device.type != DeviceType.CPU) this.to(device);
    }

    /// <summary>The architecture.</summary>
    public BertConfig Config { get; }

    /// <summary>The initialisation seed (LoRA adapters draw from it too).</summary>
    public long Seed { get; }

    /// <summary>Embedding block.</summary>
    public BertEmbeddings Embeddings { get; }

    /// <summary>Layer stack.</summary>
    public BertEncoder Encoder { get; }

    /// <summary>The tanh pooler, or null.</summary>
    public BertPooler? Pooler { get; }

    /// <summary>The tokenizer saved with the model (vocab.txt), if any.</summary>
    public BertTokenizer? Tokenizer { get; set; }

    /// <summary>What <see cref="Load"/> ignored or left initialised; null for a model that was not loaded.</summary>
    public BertLoadReport? LoadReport { get; private set; }

    /// <summary>Hidden size H.</summary>
    public int HiddenSize => Config.HiddenSize;

    /// <summary>The device of the parameters.</summary>
    public Device Device
    {
        get
        {
            using var scope = torch.NewDisposeScope(); // the getter's fresh wrapper dies here, not on the finalizer thread mid-call
            return Embeddings.WordEmbeddings.weight!.device;
        }
    }

    /// <inheritdoc />
    public override BertModelOutput forward(BertBatch batch) => Forward(batch);

    /// <summary>Runs the model on a batch of ids, creating the input tensors on <see cref="Device"/>.</summary>
    /// <param name="batch">Token ids, segments and mask; every id must be inside the vocabulary and the length within max_position_embeddings.</param>
    /// <param name="outputAttentions">Return each layer's attention weights (for explanations).</param>
    /// <param name="outputHiddenStates">Return the embeddings' and every layer's output.</param>
    /// <exception cref="ArgumentException">An id, segment or length is out of range (the message names the row and position).</exception>
    public BertModelOutput Forward(BertBatch batch, bool outputAttentions = false, bool outputHiddenStates = false)
    {
        ArgumentNullException.ThrowIfNull(batch);
        Check(batch);
        var (ids, types, mask) = ToTensors(batch);
        using (ids)
        using (types)
        using (mask)
            return Forward(ids, types, mask, outputAttentions, outputHiddenStates);
    }

    /// <summary>Runs the model on (B, T) int64 ids and token types and a (B, T) 0/1 mask, all on <see cref="Device"/>.</summary>
    public BertModelOutput Forward(Tensor inputIds, Tensor tokenTypeIds, Tensor attentionMask, bool outputAttentions = false,
        bool outputHiddenStates = false)
    {
        using var scope = torch.NewDisposeScope();
        var bias = MaskBias(attentionMask);
        var x = Embeddings.forward(inputIds, tokenTypeIds);
        var attentions = outputAttentions ? new List<Tensor>(Config.NumHiddenLayers) : null;
        var hidden = outputHiddenStates ? new List<Tensor>(Config.NumHiddenLayers + 1) { x } : null;
        foreach (var layer in Encoder.Layer)
        {
            (x, var p) = layer.Attend(x, bias, outputAttentions);
            if (p is not null) attentions!.Add(p.MoveToOuterDisposeScope());
            hidden?.Add(x);
        }
        var pooled = Pooler?.forward(x);
        foreach (var h in hidden ?? []) h.MoveToOuterDisposeScope();
        return new BertModelOutput(x.MoveToOuterDisposeScope(), pooled?.MoveToOuterDisposeScope(), attentions, hidden);
    }

    /// <summary>
    /// The hidden states after the embeddings and the first <paramref name="layers"/> layers, (batch, length, H): the part
    /// of the model a <see cref="FineTuningKind.FreezeBottom"/> mode keeps fixed, so callers can cache it.
    /// </summary>
    public Tensor ForwardBottom(BertBatch batch, int layers)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentOutOfRangeException.ThrowIfNegative(layers);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(layers, Config.NumHiddenLayers);
        Check(batch);
        using var scope = torch.NewDisposeScope();
        var (ids, types, mask) = ToTensors(batch);
        var bias = MaskBias(mask);
        var x = Embeddings.forward(ids, types);
        for (int i = 0; i < layers; i++) x = Encoder.Layer[i].forward(x, bias);
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>Runs layers <paramref name="from"/> … L−1 on hidden states from <see cref="ForwardBottom"/>; returns the last hidden state.</summary>
    /// <param name="hidden">(B, T, H).</param>
    /// <param name="mask">(B, T) 0/1 mask.</param>
    /// <param name="from">First layer to run.</param>
    public Tensor ForwardTop(Tensor hidden, Tensor mask, int from)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        ArgumentNullException.ThrowIfNull(mask);
        ArgumentOutOfRangeException.ThrowIfNegative(from);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(from, Config.NumHiddenLayers);
        using var scope = torch.NewDisposeScope();
        var bias = MaskBias(mask);
        var x = hidden.alias();
        for (int i = from; i < Config.NumHiddenLayers; i++) x = Encoder.Layer[i].forward(x, bias);
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>The batch as (B, T) int64 ids and token types and a (B, T) float mask on <see cref="Device"/>.</summary>
    public (Tensor InputIds, Tensor TokenTypeIds, Tensor AttentionMask) ToTensors(BertBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var device = Device;
        var ids = TorchInterop.Int64(batch.InputIds, batch.BatchSize, batch.Length, device);
        var types = TorchInterop.Int64(batch.TokenTypeIds, batch.BatchSize, batch.Length, device);
        var mask = torch.tensor(Array.ConvertAll(batch.AttentionMask, v => (float)v), [batch.BatchSize, batch.Length], device: device);
        return (ids, types, mask);
    }

    /// <summary>Hugging Face's extended mask: (1 − mask) · float.MinValue as (B, 1, 1, T), added to attention scores.</summary>
    internal static Tensor MaskBias(Tensor mask)
    {
        using var m = mask.to_type(ScalarType.Float32);
        using var inverted = m.SubtractedFrom(1);
        using var scaled = inverted.Times(float.MinValue);
        return scaled.unsqueeze(1).unsqueeze(2);
    }

    private void Check(BertBatch batch)
    {
        if (batch.Length > Config.MaxPositionEmbeddings)
            throw new ArgumentException($"Sequence length {batch.Length} exceeds max_position_embeddings {Config.MaxPositionEmbeddings}; truncate the input (BertTokenizer.Encode maxLength).", nameof(batch));
        if (batch.Length == 0) throw new ArgumentException("The batch has length 0; every row needs at least [CLS].", nameof(batch));
        for (int i = 0; i < batch.InputIds.Length; i++)
        {
            int id = batch.InputIds[i], type = batch.TokenTypeIds[i];
            if ((uint)id >= (uint)Config.VocabSize)
                throw new ArgumentException($"Token id {id} at row {i / batch.Length}, position {i % batch.Length} is outside the vocabulary of {Config.VocabSize}.", nameof(batch));
            if ((uint)type >= (uint)Config.TypeVocabSize)
                throw new ArgumentException($"Token type {type} at row {i / batch.Length}, position {i % batch.Length} is outside type_vocab_size {Config.TypeVocabSize}.", nameof(batch));
        }
    }
}

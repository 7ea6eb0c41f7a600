using System.Text.Json;
using HierRec.Tensors;
using HierRec.Tensors.Autograd;
using HierRec.Tensors.Layers;
using HierRec.Tensors.Serialization;
using HierRec.Text;

namespace HierRec.Text.Legacy;

/// <summary>What <see cref="BertModel.Forward"/> returns.</summary>
/// <param name="LastHiddenState">(batch, length, H) token vectors of the top layer.</param>
/// <param name="PoolerOutput">(batch, H) tanh pooler output, or null for a model without a pooler.</param>
/// <param name="Attentions">Per layer, bottom first, the (batch, heads, length, length) attention weights; null unless requested.</param>
/// <param name="HiddenStates">The embeddings' output and each layer's output (L + 1 tensors); null unless requested.</param>
public sealed record BertModelOutput(Tensor LastHiddenState, Tensor? PoolerOutput, IReadOnlyList<Tensor>? Attentions, IReadOnlyList<Tensor>? HiddenStates);

/// <summary>
/// BERT (Devlin et al., 2019) on the HierRec.Tensors engine: embeddings, a stack of post-LN encoder layers and an optional
/// pooler, with exactly Hugging Face <c>BertModel</c>'s parameter names, so <c>model.safetensors</c> and <c>config.json</c>
/// move between HierRec, PyTorch (transformers) and TorchSharp unchanged.
/// </summary>
/// <remarks>
/// Thread-safety: training is single-threaded. Concurrent inference (<see cref="Forward"/> inside
/// <c>GradMode.NoGrad()</c>, eval mode) is safe because a forward pass does not change the model.
/// </remarks>
public sealed class BertModel : Module
{
    private readonly Rng _rng;

    /// <summary>Creates a randomly initialised model (Hugging Face's initialisation: N(0, initializer_range), zero biases).</summary>
    /// <param name="config">Architecture; validated.</param>
    /// <param name="rng">Initialisation and dropout generator (seed 0 when null).</param>
    /// <param name="addPooler">Whether to create <c>pooler.dense</c>.</param>
    public BertModel(BertConfig config, Rng? rng = null, bool addPooler = true)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        _rng = rng ?? new Rng(0);
        Embeddings = RegisterModule("embeddings", new BertEmbeddings(config, _rng));
        Encoder = RegisterModule("encoder", new BertEncoder(config, _rng));
        if (addPooler) Pooler = RegisterModule("pooler", new BertPooler(config, _rng));
    }

    /// <summary>The architecture.</summary>
    public BertConfig Config { get; }

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

    /// <summary>The fine-tuning mode last applied with <see cref="ApplyFineTuning"/> (Full for a new model).</summary>
    public BertFineTuning FineTuning { get; private set; } = BertFineTuning.Full;

    /// <summary>Hidden size H.</summary>
    public int HiddenSize => Config.HiddenSize;

    /// <summary>Runs the model.</summary>
    /// <param name="batch">Token ids, segments and mask; every id must be inside the vocabulary and the length within max_position_embeddings.</param>
    /// <param name="outputAttentions">Return each layer's attention weights (for explanations).</param>
    /// <param name="outputHiddenStates">Return the embeddings' and every layer's output.</param>
    /// <exception cref="ArgumentException">An id, segment or length is out of range (the message names the row and position).</exception>
    public BertModelOutput Forward(BertBatch batch, bool outputAttentions = false, bool outputHiddenStates = false)
    {
        ArgumentNullException.ThrowIfNull(batch);
        Check(batch);
        var mask = batch.MaskTensor();
        var x = Embeddings.Forward(batch);
        var attentions = outputAttentions ? new List<Tensor>(Config.NumHiddenLayers) : null;
        var hidden = outputHiddenStates ? new List<Tensor>(Config.NumHiddenLayers + 1) { x } : null;
        foreach (var layer in Encoder.Layer.Items)
        {
            x = layer.Forward(x, mask, out var p, outputAttentions);
            if (attentions is not null) attentions.Add(p!);
            hidden?.Add(x);
        }
        return new BertModelOutput(x, Pooler?.Forward(x), attentions, hidden);
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
        var mask = batch.MaskTensor();
        var x = Embeddings.Forward(batch);
        for (int i = 0; i < layers; i++) x = Encoder.Layer[i].Forward(x, mask, out _);
        return x;
    }

    /// <summary>Runs layers <paramref name="from"/> … L−1 on hidden states from <see cref="ForwardBottom"/>; returns the last hidden state.</summary>
    public Tensor ForwardTop(Tensor hidden, Tensor mask, int from)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        ArgumentNullException.ThrowIfNull(mask);
        ArgumentOutOfRangeException.ThrowIfNegative(from);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(from, Config.NumHiddenLayers);
        var x = hidden;
        for (int i = from; i < Config.NumHiddenLayers; i++) x = Encoder.Layer[i].Forward(x, mask, out _);
        return x;
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

    // ---------------------------------------------------------------- fine-tuning modes

    /// <summary>
    /// Sets which parameters train: all (<see cref="BertFineTuning.Full"/>), none (<see cref="BertFineTuning.Frozen"/>),
    /// everything above the embeddings and the bottom N layers (<see cref="BertFineTuning.FreezeBottom"/>), or LoRA
    /// adapters on every layer's query and value projections with everything else frozen (<see cref="BertFineTuning.Lora"/>).
    /// Create the optimizer after this call (from <c>TrainableParameters</c>), so frozen parameters get no optimizer state.
    /// </summary>
    /// <exception cref="InvalidOperationException">LoRA is requested while adapters are attached; merge them first.</exception>
    public void ApplyFineTuning(BertFineTuning mode)
    {
        ArgumentNullException.ThrowIfNull(mode);
        if (HasLora && mode.Kind != FineTuningKind.Lora)
            throw new InvalidOperationException("LoRA adapters are attached; call MergeLora() before switching to another fine-tuning mode.");
        switch (mode.Kind)
        {
            case FineTuningKind.Full:
                Freeze(false);
                break;
            case FineTuningKind.Frozen:
                Freeze(true);
                break;
            case FineTuningKind.FreezeBottom:
                if (mode.FrozenLayers > Config.NumHiddenLayers)
                    throw new ArgumentOutOfRangeException(nameof(mode), $"Cannot freeze {mode.FrozenLayers} layers of a {Config.NumHiddenLayers}-layer model.");
                Freeze(false);
                Embeddings.Freeze(true);
                for (int i = 0; i < mode.FrozenLayers; i++) Encoder.Layer[i].Freeze(true);
                break;
            case FineTuningKind.Lora:
                if (HasLora) throw new InvalidOperationException("LoRA adapters are already attached.");
                Freeze(true);
                var rng = _rng.Fork();
                foreach (var layer in Encoder.Layer.Items)
                {
                    layer.Attention.Self.Query.AddLora(mode.LoraRank, mode.LoraAlpha, rng);
                    layer.Attention.Self.Value.AddLora(mode.LoraRank, mode.LoraAlpha, rng);
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(mode), mode.Kind, "Unknown fine-tuning mode.");
        }
        FineTuning = mode;
    }

    /// <summary>Whether LoRA adapters are attached.</summary>
    public bool HasLora => Encoder.Layer.Items.Any(l => l.Attention.Self.Query.HasLora || l.Attention.Self.Value.HasLora);

    /// <summary>Folds every LoRA adapter into its base weight (W += α/r · B A) and removes the adapters; outputs are unchanged.</summary>
    public void MergeLora()
    {
        foreach (var layer in Encoder.Layer.Items)
        {
            if (layer.Attention.Self.Query.HasLora) layer.Attention.Self.Query.MergeLora();
            if (layer.Attention.Self.Value.HasLora) layer.Attention.Self.Value.MergeLora();
        }
        FineTuning = BertFineTuning.Frozen;
    }

    /// <summary>The LoRA adapter tensors (names ending in <c>lora_A</c> / <c>lora_B</c>).</summary>
    public IReadOnlyDictionary<string, Tensor> LoraStateDict() =>
        NamedParameters().Where(p => IsLoraName(p.Name)).ToDictionary(p => p.Name, p => p.Parameter);

    /// <summary>Writes only the LoRA adapters (a few KB) to a safetensors file, atomically, with rank and α in its metadata.</summary>
    public void SaveLoraAdapters(string path)
    {
        if (!HasLora) throw new InvalidOperationException("No LoRA adapters are attached.");
        var meta = new Dictionary<string, string>
        {
            ["format"] = "hierrec-lora",
            ["rank"] = FineTuning.LoraRank.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["alpha"] = FineTuning.LoraAlpha.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        };
        SafeTensors.Save(path, LoraStateDict().Select(p => new KeyValuePair<string, Tensor>(p.Key, p.Value)), meta);
    }

    /// <summary>Attaches adapters of the rank and α stored in <paramref name="path"/> and loads their values.</summary>
    /// <exception cref="InvalidDataException">The file is not a HierRec LoRA file or does not match this model (names listed).</exception>
    public void LoadLoraAdapters(string path)
    {
        var content = SafeTensors.Load(path);
        if (!content.Metadata.TryGetValue("format", out var f) || f != "hierrec-lora"
            || !content.Metadata.TryGetValue("rank", out var r) || !int.TryParse(r, System.Globalization.CultureInfo.InvariantCulture, out int rank)
            || !content.Metadata.TryGetValue("alpha", out var a) || !float.TryParse(a, System.Globalization.CultureInfo.InvariantCulture, out float alpha))
            throw new InvalidDataException($"{path}: not a HierRec LoRA adapter file (metadata format/rank/alpha missing).");
        if (!HasLora) ApplyFineTuning(BertFineTuning.Lora(rank, alpha));
        else if (FineTuning.LoraRank != rank) throw new InvalidDataException($"{path}: adapters of rank {rank}, but the attached adapters have rank {FineTuning.LoraRank}.");
        var own = NamedParameters().Where(p => IsLoraName(p.Name)).ToList();
        var missing = own.Where(p => !content.Tensors.ContainsKey(p.Name)).Select(p => p.Name).ToList();
        var unexpected = content.Names.Where(n => own.All(p => p.Name != n)).ToList();
        if (missing.Count > 0 || unexpected.Count > 0)
            throw new InvalidDataException($"{path}: adapter tensors do not match the model; missing: [{string.Join(", ", missing)}], unexpected: [{string.Join(", ", unexpected)}].");
        foreach (var (name, p) in own)
        {
            var src = content.Tensors[name];
            if (!src.Shape.SequenceEqual(p.Shape))
                throw new InvalidDataException($"{path}: tensor '{name}' has shape {Tensor.ShapeString(src.Shape)}; the model needs {Tensor.ShapeString(p.Shape)}.");
            src.Data.CopyTo(p.Data);
        }
    }

    private static bool IsLoraName(string name) => name.EndsWith(".lora_A", StringComparison.Ordinal) || name.EndsWith(".lora_B", StringComparison.Ordinal);

    // ---------------------------------------------------------------- checkpoints

    /// <summary>
    /// The model's weights as a Hugging Face <c>BertModel</c> state dict, with LoRA adapters (if any) merged into copies of
    /// their base weights, so the result loads into a model without adapters. The model itself is not changed.
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> ExportStateDict(string prefix = "")
    {
        var merged = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, module) in NamedModules())
        {
            if (module is Linear { HasLora: true } linear) merged[name + ".weight"] = linear.MergedWeight();
        }
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, p) in NamedParameters())
        {
            if (IsLoraName(name)) continue;
            result[prefix + name] = merged.TryGetValue(name, out var m) ? m : p;
        }
        return result;
    }

    /// <summary>
    /// Writes a Hugging Face model folder atomically: config.json, model.safetensors (LoRA merged) and, when a tokenizer
    /// is attached, vocab.txt and tokenizer_config.json. The folder is replaced as a whole; a failed save leaves the old one.
    /// </summary>
    public void Save(string folder) => SaveFolder(folder, Config, ExportStateDict(), Tokenizer);

    internal static void SaveFolder(string folder, BertConfig config, IReadOnlyDictionary<string, Tensor> tensors, BertTokenizer? tokenizer, Action<string>? extra = null)
        => HuggingFaceFolder.Write(folder, config, tensors, tokenizer, extra);

    /// <summary>
    /// Loads a Hugging Face BERT folder: config.json, then model.safetensors (or a sharded model.safetensors.index.json),
    /// and vocab.txt when present. Names may carry the <c>bert.</c> prefix of task models; legacy LayerNorm
    /// <c>gamma</c>/<c>beta</c> names are accepted; task heads (<c>cls.*</c>, <c>classifier.*</c>, …) and buffers
    /// (<c>position_ids</c>) are ignored and listed in <see cref="LoadReport"/>.
    /// </summary>
    /// <exception cref="FileNotFoundException">config.json or the weights are missing (pytorch_model.bin alone is named, with the fix).</exception>
    /// <exception cref="InvalidDataException">Missing or unexpected tensors or shape mismatches, listed by name.</exception>
    public static BertModel Load(string folder, BertLoadOptions? options = null)
    {
        options ??= new BertLoadOptions();
        var config = BertConfig.Load(RequireFile(folder, "config.json"));
        var (tensors, source) = ReadWeights(folder);
        var ignored = new List<string>();
        var own = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (rawName, t) in tensors)
        {
            string name = NormalizeName(rawName);
            if (name.StartsWith("bert.", StringComparison.Ordinal)) name = name["bert.".Length..];
            else if (IsHeadOrBuffer(name)) { ignored.Add(rawName); continue; }
            if (IsHeadOrBuffer(name)) { ignored.Add(rawName); continue; }
            if (options.WithoutPooler && name.StartsWith("pooler.", StringComparison.Ordinal)) { ignored.Add(rawName); continue; }
            if (!own.TryAdd(name, t)) throw new InvalidDataException($"{source}: tensor '{rawName}' appears twice (with and without the 'bert.' prefix).");
        }
        var model = new BertModel(config, new Rng(0), addPooler: !options.WithoutPooler);
        var missing = model.NamedParameters().Select(p => p.Name).Where(n => !own.ContainsKey(n)).ToList();
        var missingHeads = missing.Where(n => n.StartsWith("pooler.", StringComparison.Ordinal)).ToList();
        bool acceptMissing = options.AllowMissingHeads && missing.Count == missingHeads.Count;
        try
        {
            model.LoadParameters(own, allowMissing: acceptMissing, allowUnexpected: false, source);
        }
        catch (InvalidDataException ex) when (missingHeads.Count > 0 && !options.AllowMissingHeads)
        {
            throw new InvalidDataException(ex.Message + " The pooler is a head: set BertLoadOptions.AllowMissingHeads (keep it randomly initialised) or WithoutPooler to accept its absence.", ex);
        }
        model.LoadReport = new BertLoadReport(source, ignored, missingHeads);
        if (options.LoadTokenizer) model.Tokenizer = TryLoadTokenizer(folder);
        model.Eval();
        return model;
    }

    /// <summary>Reads vocab.txt and tokenizer_config.json's do_lower_case (default true) when the folder has them.</summary>
    public static BertTokenizer? TryLoadTokenizer(string folder) => HuggingFaceFolder.TryLoadTokenizer(folder);

    internal static string RequireFile(string folder, string name) => HuggingFaceFolder.RequireFile(folder, name);

    internal static (IReadOnlyDictionary<string, Tensor> Tensors, string Source) ReadWeights(string folder) => HuggingFaceFolder.ReadWeights(folder);

    internal static string NormalizeName(string name) => HuggingFaceFolder.NormalizeName(name);

    private static bool IsHeadOrBuffer(string name) => HuggingFaceFolder.IsHeadOrBuffer(name);

    // ---------------------------------------------------------------- inference

    /// <summary>
    /// Encodes texts into one vector each, in a no-grad scope and eval mode, batching texts of similar length together
    /// (sorted by token count) to cut padding. Row i of the result is texts[i].
    /// </summary>
    /// <param name="texts">Texts to encode.</param>
    /// <param name="pooling">Pooling of token vectors (Cls, Mean or Pooler; Attention needs <paramref name="attention"/>).</param>
    /// <param name="batchSize">Texts per forward pass.</param>
    /// <param name="maxLength">Truncation length in tokens (at most max_position_embeddings).</param>
    /// <param name="attention">An attention pooling module, for <see cref="PoolingKind.Attention"/>.</param>
    /// <exception cref="InvalidOperationException">No tokenizer is attached.</exception>
    public Tensor EncodeTexts(IReadOnlyList<string> texts, PoolingKind pooling = PoolingKind.Mean, int batchSize = 32, int maxLength = 128, AttentionPooling? attention = null)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        var tokenizer = Tokenizer ?? throw new InvalidOperationException("EncodeTexts needs a tokenizer: set BertModel.Tokenizer or load a folder with vocab.txt.");
        maxLength = Math.Min(maxLength, Config.MaxPositionEmbeddings);
        var encodings = new Encoding[texts.Count];
        for (int i = 0; i < texts.Count; i++) encodings[i] = tokenizer.Encode(texts[i] ?? throw new ArgumentException($"texts[{i}] is null.", nameof(texts)), maxLength: maxLength);
        return EncodeBatched(encodings, pooling, batchSize, attention);
    }

    /// <summary>As <see cref="EncodeTexts"/>, from encodings (unpadded, or padded with mask 0).</summary>
    public Tensor EncodeBatched(IReadOnlyList<Encoding> encodings, PoolingKind pooling = PoolingKind.Mean, int batchSize = 32, AttentionPooling? attention = null)
    {
        ArgumentNullException.ThrowIfNull(encodings);
        int n = encodings.Count, h = Config.HiddenSize;
        var result = new Tensor(n, h);
        var order = Enumerable.Range(0, n).OrderBy(i => encodings[i].AttentionMask.Sum()).ToArray();
        using (EvalScope())
        using (GradMode.NoGrad())
        {
            for (int start = 0; start < n; start += batchSize)
            {
                int count = Math.Min(batchSize, n - start);
                var chunk = new Encoding[count];
                for (int j = 0; j < count; j++) chunk[j] = Trim(encodings[order[start + j]]);
                var batch = BertBatch.FromEncodings(chunk, Config.PadTokenId);
                var output = Forward(batch);
                var pooled = BertPooling.Pool(pooling, output.LastHiddenState, batch.MaskTensor(), Pooler, attention);
                for (int j = 0; j < count; j++) pooled.Data.Slice(j * h, h).CopyTo(result.Data.Slice(order[start + j] * h, h));
            }
        }
        return result;
    }

    private static Encoding Trim(Encoding e)
    {
        int len = e.AttentionMask.Length;
        while (len > 1 && e.AttentionMask[len - 1] == 0) len--;
        return len == e.Ids.Length ? e : new Encoding(e.Ids[..len], e.TypeIds[..len], e.AttentionMask[..len]);
    }
}

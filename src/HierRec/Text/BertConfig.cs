using System.Text.Json;
using System.Text.Json.Serialization;
using HierRec.Serialization;

namespace HierRec.Text;

/// <summary>
/// A BERT architecture, read from and written to a Hugging Face <c>config.json</c> (same property names, so files move
/// between HierRec, PyTorch and TorchSharp). Unknown properties are kept on load and written back.
/// </summary>
public sealed class BertConfig
{
    /// <summary>Vocabulary size.</summary>
    [JsonPropertyName("vocab_size")] public int VocabSize { get; set; } = 30522;

    /// <summary>Hidden size H.</summary>
    [JsonPropertyName("hidden_size")] public int HiddenSize { get; set; } = 768;

    /// <summary>Encoder layers L.</summary>
    [JsonPropertyName("num_hidden_layers")] public int NumHiddenLayers { get; set; } = 12;

    /// <summary>Attention heads A (must divide H).</summary>
    [JsonPropertyName("num_attention_heads")] public int NumAttentionHeads { get; set; } = 12;

    /// <summary>Feed-forward size I.</summary>
    [JsonPropertyName("intermediate_size")] public int IntermediateSize { get; set; } = 3072;

    /// <summary>Longest sequence (position embeddings).</summary>
    [JsonPropertyName("max_position_embeddings")] public int MaxPositionEmbeddings { get; set; } = 512;

    /// <summary>Token types (segments).</summary>
    [JsonPropertyName("type_vocab_size")] public int TypeVocabSize { get; set; } = 2;

    /// <summary>LayerNorm ε.</summary>
    [JsonPropertyName("layer_norm_eps")] public double LayerNormEps { get; set; } = 1e-12;

    /// <summary>Dropout on hidden states.</summary>
    [JsonPropertyName("hidden_dropout_prob")] public double HiddenDropoutProb { get; set; } = 0.1;

    /// <summary>Dropout on attention probabilities.</summary>
    [JsonPropertyName("attention_probs_dropout_prob")] public double AttentionProbsDropoutProb { get; set; } = 0.1;

    /// <summary>Feed-forward activation; only "gelu" (erf) is supported.</summary>
    [JsonPropertyName("hidden_act")] public string HiddenAct { get; set; } = "gelu";

    /// <summary>Standard deviation of the N(0, σ) initialisation.</summary>
    [JsonPropertyName("initializer_range")] public double InitializerRange { get; set; } = 0.02;

    /// <summary>"bert".</summary>
    [JsonPropertyName("model_type")] public string ModelType { get; set; } = "bert";

    /// <summary>Id of [PAD].</summary>
    [JsonPropertyName("pad_token_id")] public int PadTokenId { get; set; }

    /// <summary>Properties HierRec does not interpret, kept for the round trip.</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }

    /// <summary>Checks every field, naming the first that is wrong.</summary>
    /// <exception cref="InvalidDataException">A field is out of range or inconsistent.</exception>
    public void Validate(string source = "config")
    {
        void Positive(int v, string name) { if (v <= 0) throw new InvalidDataException($"{source}: {name} must be positive, got {v}."); }
        void Probability(double v, string name) { if (!(v >= 0 && v < 1)) throw new InvalidDataException($"{source}: {name} must be in [0, 1), got {v}."); }
        Positive(VocabSize, "vocab_size");
        Positive(HiddenSize, "hidden_size");
        Positive(NumHiddenLayers, "num_hidden_layers");
        Positive(NumAttentionHeads, "num_attention_heads");
        Positive(IntermediateSize, "intermediate_size");
        Positive(MaxPositionEmbeddings, "max_position_embeddings");
        Positive(TypeVocabSize, "type_vocab_size");
        if (HiddenSize % NumAttentionHeads != 0)
            throw new InvalidDataException($"{source}: hidden_size {HiddenSize} is not divisible by num_attention_heads {NumAttentionHeads}.");
        if (!(LayerNormEps > 0)) throw new InvalidDataException($"{source}: layer_norm_eps must be positive, got {LayerNormEps}.");
        Probability(HiddenDropoutProb, "hidden_dropout_prob");
        Probability(AttentionProbsDropoutProb, "attention_probs_dropout_prob");
        if (HiddenAct != "gelu") throw new InvalidDataException($"{source}: hidden_act '{HiddenAct}' is not supported (only \"gelu\", the erf form).");
        if (PadTokenId < 0 || PadTokenId >= VocabSize) throw new InvalidDataException($"{source}: pad_token_id {PadTokenId} is outside the vocabulary of {VocabSize}.");
    }

    /// <summary>
    /// Parameters of the encoder this config describes (embeddings, layers, and the pooler when
    /// <paramref name="pooler"/>), computed in 64 bits so a hostile config cannot overflow it. A loader compares it with
    /// what the weights file really holds before it allocates the model.
    /// </summary>
    public long ParameterCount(bool pooler = true)
    {
        long h = HiddenSize, i = IntermediateSize;
        long embeddings = ((long)VocabSize + MaxPositionEmbeddings + TypeVocabSize) * h + 2 * h;
        long layer = 4 * (h * h + h) + 2 * h + (h * i + i) + (i * h + h) + 2 * h;
        return embeddings + NumHiddenLayers * layer + (pooler ? h * h + h : 0);
    }

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, NumberHandling = JsonNumberHandling.AllowReadingFromString };

    /// <summary>Reads and validates a config.json.</summary>
    /// <exception cref="InvalidDataException">Malformed JSON or invalid values, naming the file.</exception>
    public static BertConfig Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        BertConfig? config;
        try
        {
            config = JsonSerializer.Deserialize<BertConfig>(File.ReadAllText(path), Json);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path}: not a valid config.json ({ex.Message}).", ex);
        }
        if (config is null) throw new InvalidDataException($"{path}: empty config.");
        if (new FileInfo(path).Length > 1 << 20) throw new InvalidDataException($"{path}: larger than 1 MB; not a config.json.");
        config.Validate(path);
        return config;
    }

    /// <summary>A deep copy (the extra keys included), so a caller can change it without changing this one.</summary>
    public BertConfig Clone() => JsonSerializer.Deserialize<BertConfig>(JsonSerializer.SerializeToUtf8Bytes(this, Json), Json)!;

    /// <summary>Writes config.json atomically.</summary>
    public void Save(string path)
    {
        Validate();
        var bytes = JsonSerializer.SerializeToUtf8Bytes(this, Json);
        AtomicFile.Write(path, s => s.Write(bytes));
    }
}

using System.Text.Json;
using HierRec.Serialization;
using EngineTensor = HierRec.Serialization.FloatTensor;

namespace HierRec.Text;

/// <summary>
/// The files of a Hugging Face BERT folder: config.json, model.safetensors (or shards listed by
/// model.safetensors.index.json), vocab.txt and tokenizer_config.json. Tensors pass through HierRec's own checked
/// safetensors reader as float arrays, so the engine that holds the model does not matter here.
/// </summary>
internal static class HuggingFaceFolder
{
    internal static void Write(string folder, BertConfig config, IReadOnlyDictionary<string, EngineTensor> tensors, BertTokenizer? tokenizer, Action<string>? extra = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        AtomicFile.WriteDirectory(folder, dir =>
        {
            config.Save(Path.Combine(dir, "config.json"));
            SafeTensors.Save(Path.Combine(dir, "model.safetensors"), tensors, new Dictionary<string, string> { ["format"] = "pt" });
            tokenizer?.Save(dir);
            extra?.Invoke(dir);
        });
    }

    /// <summary>The folder's tokenizer (<see cref="BertTokenizer.FromFolder"/>) when it carries vocab.txt or tokenizer.json; null otherwise.</summary>
    public static BertTokenizer? TryLoadTokenizer(string folder) =>
        File.Exists(Path.Combine(folder, "vocab.txt")) || File.Exists(Path.Combine(folder, "tokenizer.json")) ? BertTokenizer.FromFolder(folder) : null;

    internal static string RequireFile(string folder, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Model folder '{folder}' does not exist.");
        string path = Path.Combine(folder, name);
        if (!File.Exists(path)) throw new FileNotFoundException($"{folder}: {name} is missing; a Hugging Face BERT folder needs config.json and model.safetensors.", path);
        return path;
    }

    /// <summary>Reads model.safetensors, or the shards listed by model.safetensors.index.json.</summary>
    internal static (IReadOnlyDictionary<string, EngineTensor> Tensors, string Source) ReadWeights(string folder)
    {
        string single = Path.Combine(folder, "model.safetensors");
        if (File.Exists(single)) return (SafeTensors.Load(single).Tensors, single);
        string index = Path.Combine(folder, "model.safetensors.index.json");
        if (File.Exists(index))
        {
            var weightMap = ReadWeightMap(index);
            var all = new Dictionary<string, EngineTensor>(StringComparer.Ordinal);
            foreach (var shard in weightMap.Values.Distinct(StringComparer.Ordinal))
            {
                string shardPath = FolderPaths.Confine(folder, shard, index, "weight_map shard");
                if (!File.Exists(shardPath)) throw new FileNotFoundException($"{index}: shard '{SafeTensors.Excerpt(shard)}' is missing.", shardPath);
                foreach (var (k, v) in SafeTensors.Load(shardPath).Tensors)
                {
                    if (!weightMap.TryGetValue(k, out var listed) || listed != shard)
                        throw new InvalidDataException($"{shardPath}: tensor '{SafeTensors.Excerpt(k)}' is not mapped to this shard by {Path.GetFileName(index)}.");
                    all[k] = v;
                }
            }
            var absent = weightMap.Keys.FirstOrDefault(k => !all.ContainsKey(k));
            if (absent is not null) throw new InvalidDataException($"{index}: tensor '{SafeTensors.Excerpt(absent)}' is mapped to shard '{SafeTensors.Excerpt(weightMap[absent])}', which does not hold it.");
            return (all, index);
        }
        if (File.Exists(Path.Combine(folder, "pytorch_model.bin")))
        {
            throw new FileNotFoundException($"{folder}: only pytorch_model.bin (a pickle) is present, which HierRec does not read. Convert it once in Python: "
                + "model = transformers.AutoModel.from_pretrained(folder); model.save_pretrained(folder, safe_serialization=True).", single);
        }
        throw new FileNotFoundException($"{folder}: model.safetensors is missing.", single);
    }

    /// <summary>weight_map of a model.safetensors.index.json: tensor name → shard file name, every value a string.</summary>
    private static Dictionary<string, string> ReadWeightMap(string index)
    {
        var info = new FileInfo(index);
        if (info.Length > SafeTensors.MaxHeaderBytes) throw new InvalidDataException($"{index}: {info.Length} bytes; an index over {SafeTensors.MaxHeaderBytes} bytes is not accepted.");
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(index), new JsonDocumentOptions { MaxDepth = 8 });
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{index}: no weight_map object.");
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var p in map.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.String || p.Value.GetString() is not { Length: > 0 } shard)
                    throw new InvalidDataException($"{index}: weight_map['{SafeTensors.Excerpt(p.Name)}'] is not a shard file name.");
                if (!result.TryAdd(p.Name, shard)) throw new InvalidDataException($"{index}: weight_map lists '{SafeTensors.Excerpt(p.Name)}' twice.");
            }
            if (result.Count == 0) throw new InvalidDataException($"{index}: weight_map is empty.");
            return result;
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{index}: not valid JSON ({ex.Message}).", ex);
        }
    }

    /// <summary>Maps legacy TensorFlow-era names (LayerNorm.gamma / beta) to PyTorch's (weight / bias).</summary>
    internal static string NormalizeName(string name)
    {
        if (name.EndsWith(".gamma", StringComparison.Ordinal)) return name[..^".gamma".Length] + ".weight";
        if (name.EndsWith(".beta", StringComparison.Ordinal)) return name[..^".beta".Length] + ".bias";
        return name;
    }

    internal static bool IsHeadOrBuffer(string name) =>
        name.EndsWith("position_ids", StringComparison.Ordinal) || name.EndsWith("embeddings.token_type_ids", StringComparison.Ordinal)
        || name.StartsWith("cls.", StringComparison.Ordinal) || name.StartsWith("classifier.", StringComparison.Ordinal)
        || name.StartsWith("qa_outputs.", StringComparison.Ordinal) || name.StartsWith("lm_head.", StringComparison.Ordinal);
}

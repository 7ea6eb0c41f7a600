using System.Globalization;
using HierRec.Serialization;
using TorchSharp;
using static TorchSharp.torch;
using EngineTensor = HierRec.Serialization.FloatTensor;

namespace HierRec.Text;

public sealed partial class BertModel
{
    /// <summary>
    /// The model's weights as a Hugging Face <c>BertModel</c> state dict (CPU float arrays), with LoRA adapters (if any)
    /// merged into copies of their base weights, so the result loads into a model without adapters.
    /// </summary>
    internal Dictionary<string, EngineTensor> ExportStateDict(string prefix = "")
    {
        var merged = new Dictionary<string, EngineTensor>(StringComparer.Ordinal);
        foreach (var (name, module) in named_modules())
        {
            if (module is LoraLinear { HasLora: true } linear)
                using (var w = linear.MergedWeight()) merged[name + ".weight"] = TorchInterop.ToEngine(w);
        }
        var result = new Dictionary<string, EngineTensor>(StringComparer.Ordinal);
        foreach (var (name, p) in named_parameters())
        {
            if (IsLoraName(name)) continue;
            result[prefix + name] = merged.TryGetValue(name, out var m) ? m : TorchInterop.ToEngine(p);
        }
        return result;
    }

    /// <summary>
    /// Writes a Hugging Face model folder atomically: config.json, model.safetensors (LoRA merged) and, when a tokenizer
    /// is attached, vocab.txt and tokenizer_config.json. The folder is replaced as a whole; a failed save leaves the old one.
    /// </summary>
    public void Save(string folder) => HuggingFaceFolder.Write(folder, Config, ExportStateDict(), Tokenizer);

    /// <summary>
    /// Loads a Hugging Face BERT folder: config.json, then model.safetensors (or a sharded model.safetensors.index.json),
    /// and vocab.txt when present. Names may carry the <c>bert.</c> prefix of task models; legacy LayerNorm
    /// <c>gamma</c>/<c>beta</c> names are accepted; task heads (<c>cls.*</c>, <c>classifier.*</c>, …) and buffers
    /// (<c>position_ids</c>) are ignored and listed in <see cref="LoadReport"/>. The model is returned in eval mode.
    /// </summary>
    /// <param name="folder">The folder.</param>
    /// <param name="options">What may be missing, and whether to read the tokenizer.</param>
    /// <param name="device">Where the parameters go (CPU when null).</param>
    /// <exception cref="FileNotFoundException">config.json or the weights are missing (pytorch_model.bin alone is named, with the fix).</exception>
    /// <exception cref="InvalidDataException">Missing or unexpected tensors or shape mismatches, listed by name.</exception>
    public static BertModel Load(string folder, BertLoadOptions? options = null, Device? device = null) => LoadCore(folder, options, device, verified: false);

    /// <summary>As <see cref="Load(string, BertLoadOptions?, Device?)"/>; <paramref name="verified"/>: the enclosing folder's checksums already covered this one.</summary>
    internal static BertModel LoadCore(string folder, BertLoadOptions? options, Device? device, bool verified)
    {
        options ??= new BertLoadOptions();
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (!verified) AtomicFile.Recover(folder);
        var config = BertConfig.Load(HuggingFaceFolder.RequireFile(folder, "config.json"));
        // Folders HierRec wrote carry checksums.json; Hugging Face's own folders do not, and load as they are.
        if (!verified && FolderChecksums.Present(folder)) FolderChecksums.Verify(folder);
        var (tensors, source) = HuggingFaceFolder.ReadWeights(folder);
        var ignored = new List<string>();
        var own = new Dictionary<string, EngineTensor>(StringComparer.Ordinal);
        foreach (var (rawName, t) in tensors)
        {
            string name = HuggingFaceFolder.NormalizeName(rawName);
            if (name.StartsWith("bert.", StringComparison.Ordinal)) name = name["bert.".Length..];
            if (HuggingFaceFolder.IsHeadOrBuffer(name)) { ignored.Add(rawName); continue; }
            if (options.WithoutPooler && name.StartsWith("pooler.", StringComparison.Ordinal)) { ignored.Add(rawName); continue; }
            if (!own.TryAdd(name, t)) throw new InvalidDataException($"{source}: tensor '{rawName}' appears twice (with and without the 'bert.' prefix).");
        }
        // The config must describe what the weights hold before the model is allocated: a 2 KB config.json declaring a
        // vocabulary of 2,000,000 is an error here, not a 6 GB allocation.
        long held = own.Values.Sum(t => (long)t.Length), declared = config.ParameterCount(pooler: false);
        if (declared > held)
            throw new InvalidDataException($"{folder}: config.json declares an encoder of {declared:N0} parameters (vocab_size {config.VocabSize}, hidden_size {config.HiddenSize}, "
                + $"{config.NumHiddenLayers} layers); {source} holds {held:N0}. The config and the weights disagree.");
        foreach (var (name, t) in own)
            if (EngineTensor.IndexOfNonFinite(t.Data) is int bad and >= 0)
                throw new InvalidDataException($"{source}: tensor '{SafeTensors.Excerpt(name)}' has a non-finite value ({t.Data[bad]}) at flat index {bad}; the file is corrupt.");
        var model = new BertModel(config, seed: 0, addPooler: !options.WithoutPooler);
        try
        {
            var missing = model.named_parameters().Select(p => p.name).Where(n => !own.ContainsKey(n)).ToList();
            var missingHeads = missing.Where(n => n.StartsWith("pooler.", StringComparison.Ordinal)).ToList();
            bool acceptMissing = options.AllowMissingHeads && missing.Count == missingHeads.Count;
            try
            {
                LoadParameters(model, own, allowMissing: acceptMissing, source);
            }
            catch (InvalidDataException ex) when (missingHeads.Count > 0 && !options.AllowMissingHeads)
            {
                throw new InvalidDataException(ex.Message + " The pooler is a head: set BertLoadOptions.AllowMissingHeads (keep it randomly initialised) or WithoutPooler to accept its absence.", ex);
            }
            model.LoadReport = new BertLoadReport(source, ignored, missingHeads);
            if (options.LoadTokenizer) model.Tokenizer = HuggingFaceFolder.TryLoadTokenizer(folder);
            if (device is not null && device.type != DeviceType.CPU) model.to(device);
            model.eval();
            return model;
        }
        catch
        {
            model.Dispose(); // a folder that fails to load leaves nothing behind in native memory
            throw;
        }
    }

    /// <summary>
    /// Copies <paramref name="tensors"/> into <paramref name="module"/>'s parameters by name, after checking that every
    /// name and shape matches; nothing is copied when anything is wrong (missing, unexpected and mismatched names are
    /// listed together, with <paramref name="source"/>).
    /// </summary>
    internal static IReadOnlyList<string> LoadParameters(nn.Module module, IReadOnlyDictionary<string, EngineTensor> tensors,
        bool allowMissing, string source)
    {
        var own = module.named_parameters().ToList();
        var missing = own.Where(p => !tensors.ContainsKey(p.name)).Select(p => p.name).ToList();
        var unexpected = tensors.Keys.Where(n => own.All(p => p.name != n)).ToList();
        var mismatched = own.Where(p => tensors.TryGetValue(p.name, out var t) && !t.Shape.ToArray().Select(d => (long)d).SequenceEqual(p.parameter.shape))
            .Select(p => $"{p.name} {EngineTensor.ShapeString(tensors[p.name].Shape)} vs model {TorchInterop.ShapeString(p.parameter.shape)}").ToList();
        if ((missing.Count > 0 && !allowMissing) || unexpected.Count > 0 || mismatched.Count > 0)
        {
            var parts = new List<string>();
            if (missing.Count > 0 && !allowMissing) parts.Add($"missing: [{string.Join(", ", missing)}]");
            if (unexpected.Count > 0) parts.Add($"unexpected: [{string.Join(", ", unexpected)}]");
            if (mismatched.Count > 0) parts.Add($"shape mismatch: [{string.Join("; ", mismatched)}]");
            throw new InvalidDataException($"{source}: the tensors do not match the model; {string.Join("; ", parts)}.");
        }
        using (torch.no_grad())
        {
            foreach (var (name, p) in own)
            {
                if (!tensors.TryGetValue(name, out var t)) continue;
                using var src = TorchInterop.ToTorch(t);
                p.copy_(src);
            }
        }
        return missing;
    }

    /// <summary>The LoRA adapter tensors (names ending in <c>lora_A</c> / <c>lora_B</c>).</summary>
    public IReadOnlyDictionary<string, Tensor> LoraStateDict() =>
        named_parameters().Where(p => IsLoraName(p.name)).ToDictionary(p => p.name, p => (Tensor)p.parameter);

    /// <summary>Writes only the LoRA adapters (a few KB) to a safetensors file, atomically, with rank and α in its metadata.</summary>
    /// <exception cref="InvalidOperationException">No adapters are attached.</exception>
    public void SaveLoraAdapters(string path)
    {
        if (!HasLora) throw new InvalidOperationException("No LoRA adapters are attached.");
        var meta = new Dictionary<string, string>
        {
            ["format"] = "hierrec-lora",
            ["rank"] = FineTuning.LoraRank.ToString(CultureInfo.InvariantCulture),
            ["alpha"] = FineTuning.LoraAlpha.ToString("R", CultureInfo.InvariantCulture),
        };
        SafeTensors.Save(path, LoraStateDict().Select(p => new KeyValuePair<string, EngineTensor>(p.Key, TorchInterop.ToEngine(p.Value))), meta);
    }

    /// <summary>Attaches adapters of the rank and α stored in <paramref name="path"/> and loads their values.</summary>
    /// <exception cref="InvalidDataException">The file is not a HierRec LoRA file or does not match this model (names listed).</exception>
    public void LoadLoraAdapters(string path)
    {
        var content = SafeTensors.Load(path);
        if (!content.Metadata.TryGetValue("format", out var f) || f != "hierrec-lora"
            || !content.Metadata.TryGetValue("rank", out var r) || !int.TryParse(r, CultureInfo.InvariantCulture, out int rank)
            || !content.Metadata.TryGetValue("alpha", out var a) || !float.TryParse(a, CultureInfo.InvariantCulture, out float alpha))
            throw new InvalidDataException($"{path}: not a HierRec LoRA adapter file (metadata format/rank/alpha missing).");
        if (!HasLora) ApplyFineTuning(BertFineTuning.Lora(rank, alpha));
        else if (FineTuning.LoraRank != rank) throw new InvalidDataException($"{path}: adapters of rank {rank}, but the attached adapters have rank {FineTuning.LoraRank}.");
        var own = named_parameters().Where(p => IsLoraName(p.name)).ToList();
        var missing = own.Where(p => !content.Tensors.ContainsKey(p.name)).Select(p => p.name).ToList();
        var unexpected = content.Names.Where(n => own.All(p => p.name != n)).ToList();
        if (missing.Count > 0 || unexpected.Count > 0)
            throw new InvalidDataException($"{path}: adapter tensors do not match the model; missing: [{string.Join(", ", missing)}], unexpected: [{string.Join(", ", unexpected)}].");
        foreach (var (name, p) in own)
        {
            var src = content.Tensors[name];
            if (!src.Shape.ToArray().Select(d => (long)d).SequenceEqual(p.shape))
                throw new InvalidDataException($"{path}: tensor '{name}' has shape {EngineTensor.ShapeString(src.Shape)}; the model needs {TorchInterop.ShapeString(p.shape)}.");
        }
        using (torch.no_grad())
            foreach (var (name, p) in own)
                using (var src = TorchInterop.ToTorch(content.Tensors[name], p.device)) p.copy_(src);
    }
}

using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using EngineTensor = HierRec.Serialization.FloatTensor;

namespace HierRec.Text;

/// <summary>
/// BERT with the masked-language-model head, Hugging Face's <c>BertForMaskedLM</c> (names <c>bert.*</c> and
/// <c>cls.predictions.*</c>, decoder tied to the word embeddings, no pooler). Used to pre-train a domain BERT from item and
/// user texts when no checkpoint exists; <see cref="Bert"/> is then the encoder the recommender fine-tunes.
/// </summary>
public sealed class BertForMaskedLM : nn.Module<BertBatch, Tensor>
{
    /// <summary>Registers nothing by reflection: the constructor registers every component by name (<see cref="Training.TorchCheckpoint.State"/> says why).</summary>
    protected override void RegisterComponents() { }

    /// <summary>Creates a randomly initialised model.</summary>
    public BertForMaskedLM(BertConfig config, long seed = 0, Device? device = null) : base(nameof(BertForMaskedLM))
    {
        ArgumentNullException.ThrowIfNull(config);
        Bert = new BertModel(config, seed, addPooler: false);
        using (var generator = new Generator((ulong)(seed ^ 0x3C1)))
            Cls = new BertOnlyMLMHead(config, generator);
        register_module("bert", Bert);
        register_module("cls", Cls);
        if (device is not null && device.type != DeviceType.CPU) this.to(device);
    }

    private BertForMaskedLM(BertModel bert, BertOnlyMLMHead head) : base(nameof(BertForMaskedLM))
    {
        Bert = bert;
        Cls = head;
        register_module("bert", Bert);
        register_module("cls", Cls);
    }

    /// <summary>The encoder.</summary>
    public BertModel Bert { get; }

    /// <summary>The masked-LM head.</summary>
    public BertOnlyMLMHead Cls { get; }

    /// <summary>The architecture.</summary>
    public BertConfig Config => Bert.Config;

    /// <summary>Logits for every position: (batch, length, vocab).</summary>
    public override Tensor forward(BertBatch batch) => Logits(batch);

    /// <summary>Logits (rows, vocab) for the hidden states at the given flat positions (row · length + column) of <paramref name="batch"/>.</summary>
    public Tensor Logits(BertBatch batch, int[] positions)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(positions);
        foreach (int p in positions)
            if ((uint)p >= (uint)(batch.BatchSize * batch.Length)) throw new ArgumentOutOfRangeException(nameof(positions), p, "Position outside the batch.");
        using var scope = torch.NewDisposeScope();
        using var output = Bert.Forward(batch);
        var flat = output.LastHiddenState.reshape(-1, Config.HiddenSize);                         // (B·T, H)
        var index = torch.tensor(positions.Select(p => (long)p).ToArray(), device: Bert.Device);
        var rows = flat.index_select(0, index);                                                     // (M, H)
        var t = Cls.Predictions.Transform.forward(rows);
        var logits = nn.functional.linear(t, Bert.Embeddings.WordEmbeddings.weight!, Cls.Predictions.Bias); // (M, vocab)
        return logits.MoveToOuterDisposeScope();
    }

    /// <summary>Logits for every position: (batch, length, vocab).</summary>
    public Tensor Logits(BertBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var all = Enumerable.Range(0, batch.BatchSize * batch.Length).ToArray();
        using var flat = Logits(batch, all);
        return flat.reshape(batch.BatchSize, batch.Length, Config.VocabSize);
    }

    /// <summary>Mean cross-entropy over positions whose label is not −100 (labels row-major like the ids).</summary>
    /// <exception cref="ArgumentException">No position is labelled, or the labels have the wrong length.</exception>
    public Tensor Loss(BertBatch batch, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Length != batch.InputIds.Length) throw new ArgumentException($"{labels.Length} labels for {batch.InputIds.Length} tokens.", nameof(labels));
        var positions = new List<int>();
        var targets = new List<long>();
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] == -100) continue;
            positions.Add(i);
            targets.Add(labels[i]);
        }
        if (positions.Count == 0) throw new ArgumentException("No position is labelled (all labels are -100).", nameof(labels));
        using var logits = Logits(batch, positions.ToArray());
        using var target = torch.tensor(targets.ToArray(), device: Bert.Device);
        return nn.functional.cross_entropy(logits, target);
    }

    /// <summary>Writes the Hugging Face BertForMaskedLM folder (bert.* and cls.predictions.*; LoRA merged), atomically.</summary>
    public void Save(string folder)
    {
        var tensors = Bert.ExportStateDict("bert.");
        foreach (var (name, p) in Cls.named_parameters()) tensors["cls." + name] = TorchInterop.ToEngine(p);
        var config = Config.Clone();   // the model's own config is not changed
        config.Extra ??= [];
        config.Extra["architectures"] = System.Text.Json.JsonSerializer.SerializeToElement(new[] { "BertForMaskedLM" });
        HuggingFaceFolder.Write(folder, config, tensors, Bert.Tokenizer);
    }

    /// <summary>
    /// Loads a BertForMaskedLM folder. A checkpoint without the head (a plain BertModel) needs
    /// <paramref name="allowMissingHead"/>, which initialises the head randomly. The tied decoder weight, if written out, is
    /// checked to equal the word embeddings.
    /// </summary>
    /// <exception cref="InvalidDataException">Missing, unexpected or mismatched tensors, listed by name.</exception>
    public static BertForMaskedLM Load(string folder, bool allowMissingHead = false, Device? device = null)
    {
        var bert = BertModel.Load(folder, new BertLoadOptions { WithoutPooler = true });
        var (tensors, source) = HuggingFaceFolder.ReadWeights(folder);
        var head = new BertOnlyMLMHead(bert.Config);
        var own = new Dictionary<string, EngineTensor>(StringComparer.Ordinal);
        var word = TorchInterop.ToEngine(bert.Embeddings.WordEmbeddings.weight!);
        foreach (var (raw, t) in tensors)
        {
            string name = HuggingFaceFolder.NormalizeName(raw);
            if (!name.StartsWith("cls.", StringComparison.Ordinal)) continue;
            name = name["cls.".Length..];
            if (name == "predictions.decoder.weight")
            {
                if (!t.Shape.SequenceEqual(word.Shape) || !t.Data.SequenceEqual(word.Data))
                    throw new InvalidDataException($"{source}: cls.predictions.decoder.weight differs from the word embeddings; HierRec ties them (untied decoders are not supported).");
                continue;
            }
            if (name == "predictions.decoder.bias") continue; // tied to cls.predictions.bias
            own[name] = t;
        }
        BertModel.LoadParameters(head, own, allowMissing: allowMissingHead, source);
        var model = new BertForMaskedLM(bert, head);
        if (device is not null && device.type != DeviceType.CPU) model.to(device);
        model.eval();
        return model;
    }
}

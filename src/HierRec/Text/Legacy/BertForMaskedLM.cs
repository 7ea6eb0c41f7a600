using HierRec.Tensors;
using HierRec.Tensors.Autograd;
using HierRec.Tensors.Layers;
using HierRec.Text;

namespace HierRec.Text.Legacy;

/// <summary>The transform of the masked-LM head: GELU(dense) then LayerNorm (<c>cls.predictions.transform.*</c>).</summary>
public sealed class BertPredictionTransform : Module
{
    /// <summary>Creates dense (H → H) and LayerNorm.</summary>
    public BertPredictionTransform(BertConfig config, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(config);
        Dense = RegisterModule("dense", new Linear(config.HiddenSize, config.HiddenSize, rng, initStd: (float)config.InitializerRange));
        LayerNorm = RegisterModule("LayerNorm", new LayerNorm(config.HiddenSize, (float)config.LayerNormEps));
    }

    /// <summary>The projection.</summary>
    public Linear Dense { get; }

    /// <summary>The norm.</summary>
    public LayerNorm LayerNorm { get; }

    /// <summary>LayerNorm(GELU(Dense(h))).</summary>
    public Tensor Forward(Tensor h) => LayerNorm.Forward(Ops.Gelu(Dense.Forward(h)));
}

/// <summary>Transform plus the output bias; the decoder weight is tied to the word embeddings (<c>cls.predictions.*</c>).</summary>
public sealed class BertLMPredictionHead : Module
{
    /// <summary>Creates the head.</summary>
    public BertLMPredictionHead(BertConfig config, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(config);
        Transform = RegisterModule("transform", new BertPredictionTransform(config, rng));
        Bias = RegisterParameter("bias", Tensor.Zeros(config.VocabSize)); // (vocab)
    }

    /// <summary>The transform.</summary>
    public BertPredictionTransform Transform { get; }

    /// <summary>(vocab) output bias.</summary>
    public Tensor Bias { get; }
}

/// <summary>The <c>cls</c> module of Hugging Face's BertForMaskedLM.</summary>
public sealed class BertOnlyMLMHead : Module
{
    /// <summary>Creates the head.</summary>
    public BertOnlyMLMHead(BertConfig config, Rng rng) => Predictions = RegisterModule("predictions", new BertLMPredictionHead(config, rng));

    /// <summary>The prediction head.</summary>
    public BertLMPredictionHead Predictions { get; }
}

/// <summary>
/// BERT with the masked-language-model head, Hugging Face's <c>BertForMaskedLM</c> (names <c>bert.*</c> and
/// <c>cls.predictions.*</c>, decoder tied to the word embeddings, no pooler). Used to pre-train a domain BERT from item and
/// user texts when no checkpoint exists; <see cref="Bert"/> is then the encoder the recommender fine-tunes.
/// </summary>
public sealed class BertForMaskedLM : Module
{
    /// <summary>Creates a randomly initialised model.</summary>
    public BertForMaskedLM(BertConfig config, Rng? rng = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        rng ??= new Rng(0);
        Bert = RegisterModule("bert", new BertModel(config, rng, addPooler: false));
        Cls = RegisterModule("cls", new BertOnlyMLMHead(config, rng));
    }

    private BertForMaskedLM(BertModel bert, BertOnlyMLMHead head)
    {
        Bert = RegisterModule("bert", bert);
        Cls = RegisterModule("cls", head);
    }

    /// <summary>The encoder.</summary>
    public BertModel Bert { get; }

    /// <summary>The masked-LM head.</summary>
    public BertOnlyMLMHead Cls { get; }

    /// <summary>The architecture.</summary>
    public BertConfig Config => Bert.Config;

    /// <summary>Logits (rows, vocab) for the hidden states of the given flat positions (row · length + column) of <paramref name="batch"/>.</summary>
    public Tensor Logits(BertBatch batch, int[] positions)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(positions);
        var hidden = Bert.Forward(batch).LastHiddenState;
        int h = Config.HiddenSize;
        foreach (int p in positions)
            if ((uint)p >= (uint)(batch.BatchSize * batch.Length)) throw new ArgumentOutOfRangeException(nameof(positions), p, "Position outside the batch.");
        var rows = Ops.Embedding(Ops.Reshape(hidden, batch.BatchSize * batch.Length, h), positions, positions.Length); // (M, H)
        var t = Cls.Predictions.Transform.Forward(rows);
        return Ops.MatMul(t, Bert.Embeddings.WordEmbeddings.Weight, transposeB: true) + Cls.Predictions.Bias;         // (M, vocab)
    }

    /// <summary>Logits for every position: (batch, length, vocab).</summary>
    public Tensor Logits(BertBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var all = Enumerable.Range(0, batch.BatchSize * batch.Length).ToArray();
        return Ops.Reshape(Logits(batch, all), batch.BatchSize, batch.Length, Config.VocabSize);
    }

    /// <summary>Mean cross-entropy over positions whose label is not −100 (labels row-major like the ids).</summary>
    /// <exception cref="ArgumentException">No position is labelled, or the labels have the wrong length.</exception>
    public Tensor Loss(BertBatch batch, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Length != batch.InputIds.Length) throw new ArgumentException($"{labels.Length} labels for {batch.InputIds.Length} tokens.", nameof(labels));
        var positions = new List<int>();
        var targets = new List<int>();
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] == -100) continue;
            positions.Add(i);
            targets.Add(labels[i]);
        }
        if (positions.Count == 0) throw new ArgumentException("No position is labelled (all labels are -100).", nameof(labels));
        return Ops.CrossEntropy(Logits(batch, positions.ToArray()), targets.ToArray());
    }

    /// <summary>Writes the Hugging Face BertForMaskedLM folder (bert.* and cls.predictions.*; LoRA merged), atomically.</summary>
    public void Save(string folder)
    {
        var tensors = new Dictionary<string, Tensor>(Bert.ExportStateDict("bert."), StringComparer.Ordinal);
        foreach (var (name, p) in Cls.NamedParameters()) tensors["cls." + name] = p;
        var config = Config;
        config.Extra ??= [];
        config.Extra["architectures"] = System.Text.Json.JsonSerializer.SerializeToElement(new[] { "BertForMaskedLM" });
        BertModel.SaveFolder(folder, config, tensors, Bert.Tokenizer);
    }

    /// <summary>
    /// Loads a BertForMaskedLM folder. A checkpoint without the head (a plain BertModel) needs
    /// <paramref name="allowMissingHead"/>, which initialises the head randomly. The tied decoder weight, if written out, is
    /// checked to equal the word embeddings.
    /// </summary>
    /// <exception cref="InvalidDataException">Missing, unexpected or mismatched tensors, listed by name.</exception>
    public static BertForMaskedLM Load(string folder, bool allowMissingHead = false)
    {
        var bert = BertModel.Load(folder, new BertLoadOptions { WithoutPooler = true });
        var (tensors, source) = BertModel.ReadWeights(folder);
        var head = new BertOnlyMLMHead(bert.Config, new Rng(0));
        var own = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (raw, t) in tensors)
        {
            string name = BertModel.NormalizeName(raw);
            if (!name.StartsWith("cls.", StringComparison.Ordinal)) continue;
            name = name["cls.".Length..];
            if (name == "predictions.decoder.weight")
            {
                var w = bert.Embeddings.WordEmbeddings.Weight;
                if (!t.Shape.SequenceEqual(w.Shape) || !t.Data.SequenceEqual(w.Data))
                    throw new InvalidDataException($"{source}: cls.predictions.decoder.weight differs from the word embeddings; HierRec ties them (untied decoders are not supported).");
                continue;
            }
            if (name == "predictions.decoder.bias") continue; // tied to cls.predictions.bias
            own[name] = t;
        }
        var missing = head.LoadParameters(own, allowMissing: allowMissingHead, allowUnexpected: false, source);
        var model = new BertForMaskedLM(bert, head);
        model.Eval();
        return model;
    }
}

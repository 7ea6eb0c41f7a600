using HierRec.Tensors;
using HierRec.Tensors.Autograd;
using HierRec.Tensors.Optimizers;
using HierRec.Tensors.Serialization;
using HierRec.Text;
using HierRec.Text.Legacy;
using BertModel = HierRec.Text.Legacy.BertModel;
using AttentionPooling = HierRec.Text.Legacy.AttentionPooling;
using BertPooling = HierRec.Text.Legacy.BertPooling;
using BertForMaskedLM = HierRec.Text.Legacy.BertForMaskedLM;

namespace HierRec.Tests.Text.Legacy;

public sealed class LegacyBertModelTests : IDisposable
{
    private static readonly string GoldenDir = Path.Combine(AppContext.BaseDirectory, "Text", "Golden");
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "hierrec-bert-" + Guid.NewGuid().ToString("N"));

    public LegacyBertModelTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static BertBatch BatchFrom(IReadOnlyDictionary<string, Tensor> t, string prefix = "golden.")
    {
        var ids = t[prefix + "input_ids"];
        int b = ids.Dim(0), len = ids.Dim(1);
        static int[] Ints(Tensor x) => x.ToArray().Select(v => (int)v).ToArray();
        return new BertBatch(Ints(ids), t.TryGetValue(prefix + "token_type_ids", out var ty) ? Ints(ty) : null, Ints(t[prefix + "attention_mask"]), b, len);
    }

    private static void AssertClose(Tensor expected, Tensor actual, float tolerance, string what)
    {
        Assert.True(expected.Shape.SequenceEqual(actual.Shape), $"{what}: shape {Tensor.ShapeString(actual.Shape)} vs expected {Tensor.ShapeString(expected.Shape)}");
        var e = expected.Data;
        var a = actual.Data;
        float worst = 0;
        int at = -1;
        for (int i = 0; i < e.Length; i++)
        {
            float d = MathF.Abs(e[i] - a[i]);
            if (!(d <= worst)) { worst = d; at = i; }
        }
        Assert.True(worst <= tolerance, $"{what}: max |diff| {worst} at {at} (expected {(at >= 0 ? e[at] : 0)}, got {(at >= 0 ? a[at] : 0)})");
    }

    /// <summary>Writes the compact golden fixture out as a Hugging Face folder (bert.-prefixed names, full word table).</summary>
    private string GoldenFolder(out SafeTensorsContent golden)
    {
        golden = SafeTensors.Load(Path.Combine(GoldenDir, "bert_golden.safetensors"));
        Assert.Equal("hierrec-golden", golden.Metadata["format"]);
        Assert.Equal("1", golden.Metadata["version"]);
        string folder = Path.Combine(_dir, "golden-bert");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "config.json"), golden.Metadata["config"]);
        var config = BertConfig.Load(Path.Combine(folder, "config.json"));
        var word = new Tensor(config.VocabSize, config.HiddenSize);
        var ids = golden.Tensors["golden.word_ids"].ToArray();
        var rows = golden.Tensors["golden.word_rows"];
        for (int r = 0; r < ids.Length; r++) rows.Data.Slice(r * config.HiddenSize, config.HiddenSize).CopyTo(word.Data.Slice((int)ids[r] * config.HiddenSize, config.HiddenSize));
        var tensors = new List<KeyValuePair<string, Tensor>> { new("bert.embeddings.word_embeddings.weight", word) };
        foreach (var (name, t) in golden.Tensors)
            if (!name.StartsWith("golden.", StringComparison.Ordinal) && !name.StartsWith("grad:", StringComparison.Ordinal)) tensors.Add(new("bert." + name, t));
        SafeTensors.Save(Path.Combine(folder, "model.safetensors"), tensors);
        return folder;
    }

    [Fact]
    public void Golden_HiddenStatesPoolerAttentionsAndEveryGradient_MatchPyTorch()
    {
        string folder = GoldenFolder(out var golden);
        var g = golden.Tensors;
        var model = BertModel.Load(folder);
        Assert.Empty(model.LoadReport!.MissingHeads);
        var batch = BatchFrom(g);

        var output = model.Forward(batch, outputAttentions: true);
        AssertClose(g["golden.last_hidden_state"], output.LastHiddenState, 1e-4f, "last_hidden_state");
        AssertClose(g["golden.pooler_output"], output.PoolerOutput!, 1e-4f, "pooler_output");
        Assert.Equal(2, output.Attentions!.Count);
        for (int i = 0; i < 2; i++) AssertClose(g[$"golden.attentions.{i}"], output.Attentions[i], 1e-5f, $"attentions.{i}");

        var loss = Ops.Sum(output.LastHiddenState * g["golden.up_hidden"]) + Ops.Sum(output.PoolerOutput! * g["golden.up_pooled"]);
        loss.Backward();
        int checkedCount = 0;
        foreach (var (name, p) in model.NamedParameters())
        {
            if (name == "embeddings.word_embeddings.weight") continue;
            AssertClose(g["grad:" + name], p.Grad!, 1e-4f, "grad of " + name);
            checkedCount++;
        }
        Assert.Equal(g.Keys.Count(k => k.StartsWith("grad:", StringComparison.Ordinal)) - 1, checkedCount);

        // Word embeddings: the rows the batch uses (a repeated id included) match; all other rows have no gradient.
        var wordGrad = model.Embeddings.WordEmbeddings.Weight.Grad!;
        int h = model.HiddenSize;
        var used = g["golden.word_ids"].ToArray().Select(v => (int)v).ToArray();
        var expectedRows = g["grad:golden.word_rows"];
        var gotRows = new Tensor(used.Length, h);
        for (int r = 0; r < used.Length; r++) wordGrad.Data.Slice(used[r] * h, h).CopyTo(gotRows.Data.Slice(r * h, h));
        AssertClose(expectedRows, gotRows, 1e-4f, "grad of used word-embedding rows");
        var usedSet = used.ToHashSet();
        for (int id = 0; id < model.Config.VocabSize; id += 997)
            if (!usedSet.Contains(id)) Assert.True(wordGrad.Data.Slice(id * h, h).ToArray().All(v => v == 0f), $"row {id} got a gradient");
    }

    [Fact]
    public void TinyHuggingFaceMlmFolder_LoadsWithHeadsAndBuffers_AndMatchesPyTorch()
    {
        string folder = Path.Combine(GoldenDir, "tiny-bert-mlm");
        var golden = SafeTensors.Load(Path.Combine(GoldenDir, "tiny-bert-mlm.golden.safetensors")).Tensors;
        var batch = BatchFrom(golden, "");

        // A BertModel has a pooler; this masked-LM checkpoint has none: an error naming it, unless heads may be missing.
        var ex = Assert.Throws<InvalidDataException>(() => BertModel.Load(folder));
        Assert.Contains("pooler.dense.weight", ex.Message);
        Assert.Contains("AllowMissingHeads", ex.Message);
        var bert = BertModel.Load(folder, new BertLoadOptions { AllowMissingHeads = true });
        Assert.Equal(["pooler.dense.weight", "pooler.dense.bias"], bert.LoadReport!.MissingHeads);
        Assert.Contains("bert.embeddings.position_ids", bert.LoadReport.IgnoredTensors);
        Assert.Contains("cls.predictions.decoder.weight", bert.LoadReport.IgnoredTensors);
        AssertClose(golden["last_hidden_state"], bert.Forward(batch).LastHiddenState, 1e-4f, "last_hidden_state");

        var mlm = BertForMaskedLM.Load(folder);
        using (GradMode.NoGrad()) AssertClose(golden["logits"], mlm.Logits(batch), 1e-4f, "MLM logits");

        // The tokenizer came with the folder (do_lower_case from tokenizer_config.json) and the extra config keys survive.
        Assert.NotNull(mlm.Bert.Tokenizer);
        Assert.Equal(["[CLS]", "this", "film", "was", "funny", "[SEP]"], mlm.Bert.Tokenizer!.Encode("This FILM was funny").Ids.Select(mlm.Bert.Tokenizer.Token));
        Assert.True(mlm.Config.Extra!.ContainsKey("transformers_version"));

        // Save → load keeps the logits; the saved folder is a Hugging Face masked-LM folder.
        string saved = Path.Combine(_dir, "mlm-saved");
        mlm.Save(saved);
        var names = SafeTensors.Load(Path.Combine(saved, "model.safetensors")).Names;
        Assert.Contains("bert.encoder.layer.1.output.LayerNorm.weight", names);
        Assert.Contains("cls.predictions.transform.dense.weight", names);
        var again = BertForMaskedLM.Load(saved);
        using (GradMode.NoGrad()) AssertClose(golden["logits"], again.Logits(batch), 1e-4f, "MLM logits after save/load");
        Assert.True(File.Exists(Path.Combine(saved, "vocab.txt")));
    }

    private static BertConfig SmallConfig(int vocab = 64) => new()
    {
        VocabSize = vocab, HiddenSize = 16, NumHiddenLayers = 2, NumAttentionHeads = 2, IntermediateSize = 32,
        MaxPositionEmbeddings = 24, HiddenDropoutProb = 0.1, AttentionProbsDropoutProb = 0.1,
    };

    private static BertBatch RandomBatch(Rng rng, int vocab, int b, int t, int[] lengths)
    {
        var ids = new int[b * t];
        var mask = new int[b * t];
        for (int r = 0; r < b; r++)
            for (int i = 0; i < lengths[r]; i++) { ids[r * t + i] = 5 + rng.NextInt(vocab - 5); mask[r * t + i] = 1; }
        return new BertBatch(ids, null, mask, b, t);
    }

    [Fact]
    public void SaveLoad_RoundTripsParametersTokenizerAndOutputs_AndReplacesTheFolderAtomically()
    {
        var model = new BertModel(SmallConfig(), new Rng(3)) { Tokenizer = BertTokenizer.Create(Vocab(64)) };
        model.Eval();
        string folder = Path.Combine(_dir, "m");
        File.WriteAllText(Path.Combine(_dir, "placeholder"), "x");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "stale.txt"), "old");
        model.Save(folder);
        Assert.Equal(["config.json", "model.safetensors", "tokenizer_config.json", "vocab.txt"], Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(Directory.GetDirectories(_dir), d => Path.GetFileName(d).StartsWith('.'));
        var loaded = BertModel.Load(folder);
        foreach (var ((n1, p1), (n2, p2)) in model.NamedParameters().Zip(loaded.NamedParameters()))
        {
            Assert.Equal(n1, n2);
            Assert.Equal(p1.ToArray(), p2.ToArray());
        }
        Assert.Equal(64, loaded.Tokenizer!.VocabularySize);
        var batch = RandomBatch(new Rng(1), 64, 2, 6, [6, 3]);
        using var _ = GradMode.NoGrad();
        Assert.Equal(model.Forward(batch).LastHiddenState.ToArray(), loaded.Forward(batch).LastHiddenState.ToArray());
    }

    [Fact]
    public void Save_WhenWritingFails_LeavesTheOldFolder()
    {
        var model = new BertModel(SmallConfig(), new Rng(3));
        string folder = Path.Combine(_dir, "keep");
        model.Save(folder);
        var before = File.ReadAllBytes(Path.Combine(folder, "model.safetensors"));
        model.Config.NumAttentionHeads = 3; // invalid: config.Save validates inside the write and throws
        Assert.Throws<InvalidDataException>(() => model.Save(folder));
        model.Config.NumAttentionHeads = 2;
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(folder, "model.safetensors")));
        Assert.DoesNotContain(Directory.GetDirectories(_dir), d => Path.GetFileName(d).StartsWith('.'));
    }

    [Fact]
    public void Load_ListsMissingUnexpectedAndMismatchedTensors_AndNamesMissingFiles()
    {
        var model = new BertModel(SmallConfig(), new Rng(3));
        string folder = Path.Combine(_dir, "bad");
        model.Save(folder);
        var st = SafeTensors.Load(Path.Combine(folder, "model.safetensors"));
        var edited = st.Tensors.Where(kv => kv.Key != "encoder.layer.1.attention.self.key.bias").ToDictionary();
        edited["encoder.layer.0.extra.weight"] = Tensor.Zeros(2);
        edited["encoder.layer.0.output.dense.bias"] = Tensor.Zeros(5);
        SafeTensors.Save(Path.Combine(folder, "model.safetensors"), edited);
        var ex = Assert.Throws<InvalidDataException>(() => BertModel.Load(folder));
        Assert.Contains("encoder.layer.1.attention.self.key.bias", ex.Message);
        Assert.Contains("encoder.layer.0.extra.weight", ex.Message);
        Assert.Contains("encoder.layer.0.output.dense.bias: checkpoint (5) vs model (16)", ex.Message);
        Assert.Contains("model.safetensors", ex.Message);

        File.Delete(Path.Combine(folder, "model.safetensors"));
        File.WriteAllText(Path.Combine(folder, "pytorch_model.bin"), "pickle");
        Assert.Contains("safe_serialization", Assert.Throws<FileNotFoundException>(() => BertModel.Load(folder)).Message);
        File.Delete(Path.Combine(folder, "config.json"));
        Assert.Contains("config.json", Assert.Throws<FileNotFoundException>(() => BertModel.Load(folder)).Message);
    }

    [Fact]
    public void Forward_RejectsOutOfRangeIdsAndOverlongInput_NamingThePosition()
    {
        var model = new BertModel(SmallConfig(), new Rng(3));
        var ex = Assert.Throws<ArgumentException>(() => model.Forward(new BertBatch([2, 64, 3], null, null, 1, 3)));
        Assert.Contains("row 0, position 1", ex.Message);
        Assert.Contains("max_position_embeddings", Assert.Throws<ArgumentException>(() => model.Forward(new BertBatch(new int[25], null, null, 1, 25))).Message);
    }

    [Fact]
    public void Padding_DoesNotChangeTheRealTokens()
    {
        var model = new BertModel(SmallConfig(), new Rng(4));
        model.Eval();
        var rng = new Rng(9);
        var batch = RandomBatch(rng, 64, 1, 5, [5]);
        var padded = new BertBatch([.. batch.InputIds, 0, 0, 0], null, [1, 1, 1, 1, 1, 0, 0, 0], 1, 8);
        using var _ = GradMode.NoGrad();
        var a = model.Forward(batch).LastHiddenState.ToArray();
        var b = model.Forward(padded).LastHiddenState.ToArray()[..a.Length];
        for (int i = 0; i < a.Length; i++) Assert.Equal(a[i], b[i], 1e-5f);
    }

    [Fact]
    public void Poolers_ClsMeanAndAttention_BehaveAsDefined()
    {
        var model = new BertModel(SmallConfig(), new Rng(4));
        model.Eval();
        var batch = RandomBatch(new Rng(2), 64, 2, 6, [6, 3]);
        var hidden = model.Forward(batch).LastHiddenState;
        var mask = batch.MaskTensor();
        int h = 16;
        var cls = BertPooling.Pool(PoolingKind.Cls, hidden, mask);
        Assert.Equal(hidden.Data.Slice(6 * h, h).ToArray(), cls.Data.Slice(h, h).ToArray());
        var mean = BertPooling.Pool(PoolingKind.Mean, hidden, mask);
        for (int j = 0; j < h; j++)
        {
            float expected = (hidden.Data[6 * h + j] + hidden.Data[7 * h + j] + hidden.Data[8 * h + j]) / 3f;
            Assert.Equal(expected, mean.Data[h + j], 1e-5f);
        }
        var pooling = new AttentionPooling(h);
        var att = pooling.Forward(hidden, mask, out var weights);
        Assert.Equal(mean.ToArray(), att.ToArray(), new FloatTolerance(1e-5f)); // q = 0 → uniform weights → the mean
        Assert.Equal(0f, weights[1, 4]);
        Assert.Equal(1f, weights.Data.Slice(6, 6).ToArray().Sum(), 1e-5f);
        Ops.Sum(att * Tensor.RandomNormal(new Rng(1), 1f, 2, h)).Backward();
        Assert.Contains(pooling.Query.Grad!.ToArray(), v => v != 0f);
        Assert.Throws<InvalidOperationException>(() => BertPooling.Pool(PoolingKind.Pooler, hidden, mask, pooler: null));
    }

    private sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => MathF.Abs(x - y) <= tolerance;
        public int GetHashCode(float obj) => 0;
    }

    [Fact]
    public void FineTuningModes_FreezeWhatTheySay()
    {
        var model = new BertModel(SmallConfig(), new Rng(5));
        model.ApplyFineTuning(BertFineTuning.Frozen);
        Assert.Empty(model.TrainableParameters());
        model.ApplyFineTuning(BertFineTuning.FreezeBottom(1));
        var trainable = model.NamedParameters().Where(p => p.Parameter.RequiresGrad).Select(p => p.Name).ToList();
        Assert.DoesNotContain(trainable, n => n.StartsWith("embeddings.", StringComparison.Ordinal) || n.StartsWith("encoder.layer.0.", StringComparison.Ordinal));
        Assert.Contains("encoder.layer.1.attention.self.query.weight", trainable);
        Assert.Contains("pooler.dense.weight", trainable);
        var batch = RandomBatch(new Rng(2), 64, 2, 6, [6, 4]);
        Ops.Sum(model.Forward(batch).LastHiddenState).Backward();
        Assert.Null(model.Encoder.Layer[0].Output.Dense.Weight.Grad);
        Assert.NotNull(model.Encoder.Layer[1].Output.Dense.Weight.Grad);
        model.ApplyFineTuning(BertFineTuning.Full);
        Assert.Equal(model.Parameters().Count(), model.TrainableParameters().Count());
        Assert.Throws<ArgumentOutOfRangeException>(() => model.ApplyFineTuning(BertFineTuning.FreezeBottom(3)));
    }

    [Fact]
    public void Lora_TrainsOnlyAdapters_ChangesOutputs_MergesExactly_AndRoundTripsAdapters()
    {
        var config = SmallConfig();
        var model = new BertModel(config, new Rng(6));
        string baseFolder = Path.Combine(_dir, "base");
        model.Save(baseFolder);
        model.Eval(); // dropout off so outputs are comparable
        var batch = RandomBatch(new Rng(2), 64, 2, 6, [6, 4]);
        float[] Out(BertModel m) { using var _ = GradMode.NoGrad(); return m.Forward(batch).LastHiddenState.ToArray(); }
        var before = Out(model);

        model.ApplyFineTuning(BertFineTuning.Lora(rank: 4, alpha: 8));
        Assert.Equal(before, Out(model)); // B = 0: adapters start as the identity
        var trainable = model.NamedParameters().Where(p => p.Parameter.RequiresGrad).Select(p => p.Name).ToList();
        Assert.Equal(8, trainable.Count); // 2 layers × (query, value) × (A, B)
        Assert.All(trainable, n => Assert.Matches(@"^encoder\.layer\.\d\.attention\.self\.(query|value)\.lora_[AB]$", n));
        var optimizer = AdamW.Create(model.NamedParameters(), 1e-2f);
        Assert.Equal(8, optimizer.StateCount);
        var frozenBefore = model.Encoder.Layer[0].Attention.Self.Query.Weight.ToArray();
        var target = Tensor.RandomNormal(new Rng(8), 1f, 2, 6, 16);
        for (int step = 0; step < 5; step++)
        {
            optimizer.ZeroGrad();
            var loss = Ops.MseLoss(model.Forward(batch).LastHiddenState, target);
            loss.Backward();
            Assert.Null(model.Encoder.Layer[0].Attention.Self.Key.Weight.Grad);
            optimizer.Step();
        }
        Assert.Equal(frozenBefore, model.Encoder.Layer[0].Attention.Self.Query.Weight.ToArray());
        var tuned = Out(model);
        Assert.True(tuned.Zip(before).Max(p => MathF.Abs(p.First - p.Second)) > 1e-3f, "LoRA training did not change the outputs");

        // Adapters alone round-trip onto a fresh copy of the base model.
        string adapters = Path.Combine(_dir, "adapters.safetensors");
        model.SaveLoraAdapters(adapters);
        var other = BertModel.Load(baseFolder);
        other.LoadLoraAdapters(adapters);
        AssertClose(Tensor.FromArray(tuned, tuned.Length), Tensor.FromArray(Out(other), tuned.Length), 1e-6f, "outputs with loaded adapters");

        // Save exports merged weights without adapter tensors; MergeLora gives the same outputs.
        string merged = Path.Combine(_dir, "merged");
        model.Save(merged);
        Assert.DoesNotContain(SafeTensors.Load(Path.Combine(merged, "model.safetensors")).Names, n => n.Contains("lora", StringComparison.Ordinal));
        AssertClose(Tensor.FromArray(tuned, tuned.Length), Tensor.FromArray(Out(BertModel.Load(merged)), tuned.Length), 1e-5f, "outputs of the saved merged model");
        model.MergeLora();
        Assert.False(model.HasLora);
        Assert.DoesNotContain(model.NamedParameters(), p => p.Name.Contains("lora", StringComparison.Ordinal));
        AssertClose(Tensor.FromArray(tuned, tuned.Length), Tensor.FromArray(Out(model), tuned.Length), 1e-5f, "outputs after MergeLora");
    }

    [Fact]
    public void EncodeTexts_BatchedByLength_EqualsOneByOne()
    {
        var vocab = Vocab(64);
        var model = new BertModel(SmallConfig(), new Rng(7)) { Tokenizer = BertTokenizer.Create(vocab) };
        string[] texts = ["w5 w6 w7 w8 w9 w10 w11", "w12", "w13 w14 w15", "", "w20 w21 w22 w23 w24 w25 w26 w27 w28 w29", "w30 w31"];
        var together = model.EncodeTexts(texts, PoolingKind.Mean, batchSize: 3);
        Assert.Equal(new[] { 6, 16 }, together.Shape.ToArray());
        for (int i = 0; i < texts.Length; i++)
        {
            var alone = model.EncodeTexts([texts[i]], PoolingKind.Mean, batchSize: 1);
            for (int j = 0; j < 16; j++) Assert.Equal(alone.Data[j], together.Data[i * 16 + j], 1e-5f);
        }
        Assert.True(model.IsTraining); // restored after inference
    }

    [Fact]
    public void MlmMasking_FollowsThe80_10_10RuleAndSkipsSpecialsAndPadding()
    {
        var rng = new Rng(11);
        int b = 64, t = 64;
        var batch = RandomBatch(rng, 1000, b, t, Enumerable.Repeat(60, b).ToArray());
        for (int r = 0; r < b; r++) batch.InputIds[r * t] = 2; // [CLS]
        var specials = new HashSet<int> { 0, 1, 2, 3, 4 };
        var (masked, labels) = MlmMasking.Mask(batch, rng, maskId: 4, vocabSize: 1000, specials);
        int chosen = 0, asMask = 0, kept = 0, random = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] == -100) { Assert.Equal(batch.InputIds[i], masked.InputIds[i]); continue; }
            Assert.Equal(1, batch.AttentionMask[i]);
            Assert.DoesNotContain(batch.InputIds[i], specials);
            chosen++;
            if (masked.InputIds[i] == 4) asMask++;
            else if (masked.InputIds[i] == batch.InputIds[i]) kept++;
            else { random++; Assert.DoesNotContain(masked.InputIds[i], specials); }
        }
        int real = b * 59;
        Assert.InRange(chosen / (double)real, 0.13, 0.17);
        Assert.InRange(asMask / (double)chosen, 0.76, 0.84);
        Assert.InRange(kept / (double)chosen, 0.07, 0.13);
        Assert.InRange(random / (double)chosen, 0.07, 0.13);
    }

    internal static List<string> Vocab(int size)
    {
        var v = new List<string> { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]" };
        for (int i = v.Count; i < size; i++) v.Add("w" + i);
        return v;
    }
}

using HierRec.Serialization;
using HierRec.Text;
using HierRec.Training;
using TorchSharp;
using static TorchSharp.torch;
using EngineTensor = HierRec.Serialization.FloatTensor;

namespace HierRec.Tests.Text;

// The TorchSharp BERT against PyTorch's golden values and Hugging Face folders, and its own contracts.
public sealed class BertModelTests : IDisposable
{
    private static readonly string GoldenDir = Path.Combine(AppContext.BaseDirectory, "Text", "Golden");
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "hierrec-tbert-" + Guid.NewGuid().ToString("N"));

    public BertModelTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static BertBatch BatchFrom(IReadOnlyDictionary<string, EngineTensor> t, string prefix = "golden.")
    {
        var ids = t[prefix + "input_ids"];
        int b = ids.Dim(0), len = ids.Dim(1);
        static int[] Ints(EngineTensor x) => x.ToArray().Select(v => (int)v).ToArray();
        return new BertBatch(Ints(ids), t.TryGetValue(prefix + "token_type_ids", out var ty) ? Ints(ty) : null, Ints(t[prefix + "attention_mask"]), b, len);
    }

    /// <summary>Writes the compact golden fixture out as a Hugging Face folder (bert.-prefixed names, full word table).</summary>
    private string GoldenFolder(out SafeTensorsContent golden)
    {
        golden = SafeTensors.Load(Path.Combine(GoldenDir, "bert_golden.safetensors"));
        Assert.Equal("hierrec-golden", golden.Metadata["format"]);
        string folder = Path.Combine(_dir, "golden-bert");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "config.json"), golden.Metadata["config"]);
        var config = BertConfig.Load(Path.Combine(folder, "config.json"));
        var word = new EngineTensor(config.VocabSize, config.HiddenSize);
        var ids = golden.Tensors["golden.word_ids"].ToArray();
        var rows = golden.Tensors["golden.word_rows"];
        for (int r = 0; r < ids.Length; r++)
            rows.Data.Slice(r * config.HiddenSize, config.HiddenSize).CopyTo(word.Data.Slice((int)ids[r] * config.HiddenSize, config.HiddenSize));
        var tensors = new List<KeyValuePair<string, EngineTensor>> { new("bert.embeddings.word_embeddings.weight", word) };
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
        using var model = BertModel.Load(folder);
        Assert.Empty(model.LoadReport!.MissingHeads);
        var batch = BatchFrom(g);

        using var output = model.Forward(batch, outputAttentions: true);
        TorchAssert.Close(g["golden.last_hidden_state"], output.LastHiddenState, 1e-4f, "last_hidden_state");
        TorchAssert.Close(g["golden.pooler_output"], output.PoolerOutput!, 1e-4f, "pooler_output");
        Assert.Equal(2, output.Attentions!.Count);
        for (int i = 0; i < 2; i++) TorchAssert.Close(g[$"golden.attentions.{i}"], output.Attentions[i], 1e-5f, $"attentions.{i}");

        // The fused (SDPA) path without attention weights gives the same states.
        using (var fused = model.Forward(batch))
            TorchAssert.Close(g["golden.last_hidden_state"], fused.LastHiddenState, 1e-4f, "last_hidden_state (SDPA)");

        using var upHidden = TorchInterop.ToTorch(g["golden.up_hidden"]);
        using var upPooled = TorchInterop.ToTorch(g["golden.up_pooled"]);
        using var loss = (output.LastHiddenState * upHidden).sum() + (output.PoolerOutput! * upPooled).sum();
        loss.backward();
        int checkedCount = 0;
        foreach (var (name, p) in model.named_parameters())
        {
            if (name == "embeddings.word_embeddings.weight") continue;
            TorchAssert.Close(g["grad:" + name], p.grad!, 1e-4f, "grad of " + name);
            checkedCount++;
        }
        Assert.Equal(g.Keys.Count(k => k.StartsWith("grad:", StringComparison.Ordinal)) - 1, checkedCount);

        // Word embeddings: the rows the batch uses (a repeated id included) match; all other rows have no gradient.
        var wordGrad = TorchAssert.Values(model.Embeddings.WordEmbeddings.weight!.grad!);
        int h = model.HiddenSize;
        var used = g["golden.word_ids"].ToArray().Select(v => (int)v).ToArray();
        var gotRows = used.SelectMany(id => wordGrad.AsSpan(id * h, h).ToArray()).ToArray();
        TorchAssert.Close(g["grad:golden.word_rows"].ToArray(), gotRows, 1e-4f, "grad of used word-embedding rows");
        var usedSet = used.ToHashSet();
        for (int id = 0; id < model.Config.VocabSize; id += 997)
            if (!usedSet.Contains(id)) Assert.True(wordGrad.AsSpan(id * h, h).ToArray().All(v => v == 0f), $"row {id} got a gradient");
    }

    [Fact]
    public void TinyHuggingFaceMlmFolder_LoadsWithHeadsAndBuffers_AndMatchesPyTorch()
    {
        string folder = Path.Combine(GoldenDir, "tiny-bert-mlm");
        var golden = SafeTensors.Load(Path.Combine(GoldenDir, "tiny-bert-mlm.golden.safetensors")).Tensors;
        var batch = BatchFrom(golden, "");

        var ex = Assert.Throws<InvalidDataException>(() => BertModel.Load(folder));
        Assert.Contains("pooler.dense.weight", ex.Message);
        Assert.Contains("AllowMissingHeads", ex.Message);
        using var bert = BertModel.Load(folder, new BertLoadOptions { AllowMissingHeads = true });
        Assert.Equal(["pooler.dense.weight", "pooler.dense.bias"], bert.LoadReport!.MissingHeads);
        Assert.Contains("bert.embeddings.position_ids", bert.LoadReport.IgnoredTensors);
        Assert.Contains("cls.predictions.decoder.weight", bert.LoadReport.IgnoredTensors);
        using (var o = bert.Forward(batch)) TorchAssert.Close(golden["last_hidden_state"], o.LastHiddenState, 1e-4f, "last_hidden_state");

        using var mlm = BertForMaskedLM.Load(folder);
        using (torch.no_grad())
        using (var logits = mlm.Logits(batch))
            TorchAssert.Close(golden["logits"], logits, 1e-4f, "MLM logits");
        Assert.NotNull(mlm.Bert.Tokenizer);
        Assert.True(mlm.Config.Extra!.ContainsKey("transformers_version"));

        string saved = Path.Combine(_dir, "mlm-saved");
        bool hadArchitectures = mlm.Config.Extra.ContainsKey("architectures");
        mlm.Save(saved);
        Assert.Equal(hadArchitectures, mlm.Config.Extra.ContainsKey("architectures")); // Save does not change the model's config
        var names = SafeTensors.Load(Path.Combine(saved, "model.safetensors")).Names;
        Assert.Contains("bert.encoder.layer.1.output.LayerNorm.weight", names);
        Assert.Contains("cls.predictions.transform.dense.weight", names);
        using var again = BertForMaskedLM.Load(saved);
        using (torch.no_grad())
        using (var logits = again.Logits(batch))
            TorchAssert.Close(golden["logits"], logits, 1e-4f, "MLM logits after save/load");
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

    private static float[] Hidden(BertModel m, BertBatch batch)
    {
        using var _ = torch.no_grad();
        using var o = m.Forward(batch);
        return TorchAssert.Values(o.LastHiddenState);
    }

    [Fact]
    public void SaveLoad_RoundTripsParametersTokenizerAndOutputs_AndReplacesTheFolderAtomically()
    {
        using var model = new BertModel(SmallConfig(), seed: 3) { Tokenizer = BertTokenizer.Create(Vocab(64)) };
        model.eval();
        string folder = Path.Combine(_dir, "m");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "stale.txt"), "old");
        model.Save(folder);
        Assert.Equal(["checksums.json", "config.json", "model.safetensors", "tokenizer_config.json", "vocab.txt"], Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(Directory.GetDirectories(_dir), d => Path.GetFileName(d).StartsWith('.'));
        using var loaded = BertModel.Load(folder);
        foreach (var ((n1, p1), (n2, p2)) in model.named_parameters().Zip(loaded.named_parameters()))
        {
            Assert.Equal(n1, n2);
            Assert.Equal(TorchAssert.Values(p1), TorchAssert.Values(p2));
        }
        Assert.Equal(64, loaded.Tokenizer!.VocabularySize);
        var batch = RandomBatch(new Rng(1), 64, 2, 6, [6, 3]);
        Assert.Equal(Hidden(model, batch), Hidden(loaded, batch));
    }

    [Fact]
    public void Load_ListsMissingUnexpectedAndMismatchedTensors_AndNamesMissingFiles()
    {
        using var model = new BertModel(SmallConfig(), seed: 3);
        string folder = Path.Combine(_dir, "bad");
        model.Save(folder);
        var st = SafeTensors.Load(Path.Combine(folder, "model.safetensors"));
        var edited = st.Tensors.Where(kv => kv.Key != "encoder.layer.1.attention.self.key.bias").ToDictionary();
        edited["encoder.layer.0.extra.weight"] = new EngineTensor(2);
        edited["encoder.layer.0.output.dense.bias"] = new EngineTensor(5);
        SafeTensors.Save(Path.Combine(folder, "model.safetensors"), edited);
        Assert.Contains(FolderChecksums.FileName, Assert.Throws<InvalidDataException>(() => BertModel.Load(folder)).Message);
        File.Delete(Path.Combine(folder, FolderChecksums.FileName)); // as a folder from elsewhere: the tensors themselves are checked
        var ex = Assert.Throws<InvalidDataException>(() => BertModel.Load(folder));
        Assert.Contains("encoder.layer.1.attention.self.key.bias", ex.Message);
        Assert.Contains("encoder.layer.0.extra.weight", ex.Message);
        Assert.Contains("encoder.layer.0.output.dense.bias (5) vs model (16)", ex.Message);
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
        using var model = new BertModel(SmallConfig(), seed: 3);
        var ex = Assert.Throws<ArgumentException>(() => model.Forward(new BertBatch([2, 64, 3], null, null, 1, 3)));
        Assert.Contains("row 0, position 1", ex.Message);
        Assert.Contains("max_position_embeddings", Assert.Throws<ArgumentException>(() => model.Forward(new BertBatch(new int[25], null, null, 1, 25))).Message);
    }

    [Fact]
    public void Padding_DoesNotChangeTheRealTokens()
    {
        using var model = new BertModel(SmallConfig(), seed: 4);
        model.eval();
        var batch = RandomBatch(new Rng(9), 64, 1, 5, [5]);
        var padded = new BertBatch([.. batch.InputIds, 0, 0, 0], null, [1, 1, 1, 1, 1, 0, 0, 0], 1, 8);
        var a = Hidden(model, batch);
        var b = Hidden(model, padded)[..a.Length];
        TorchAssert.Close(a, b, 1e-5f, "padded");
    }

    [Fact]
    public void Poolers_ClsMeanAndAttention_BehaveAsDefined()
    {
        using var model = new BertModel(SmallConfig(), seed: 4);
        model.eval();
        var batch = RandomBatch(new Rng(2), 64, 2, 6, [6, 3]);
        using var output = model.Forward(batch);
        var hidden = output.LastHiddenState;
        var (_, _, mask) = model.ToTensors(batch);
        int h = 16;
        var hv = TorchAssert.Values(hidden);
        using var cls = BertPooling.Pool(PoolingKind.Cls, hidden, mask);
        Assert.Equal(hv.AsSpan(6 * h, h).ToArray(), TorchAssert.Values(cls).AsSpan(h, h).ToArray());
        using var mean = BertPooling.Pool(PoolingKind.Mean, hidden, mask);
        var mv = TorchAssert.Values(mean);
        for (int j = 0; j < h; j++) Assert.Equal((hv[6 * h + j] + hv[7 * h + j] + hv[8 * h + j]) / 3f, mv[h + j], 1e-5f);
        using var pooling = new AttentionPooling(h);
        var (att, weights) = pooling.PoolWithWeights(hidden, mask);
        TorchAssert.Close(mv, TorchAssert.Values(att), 1e-5f, "q = 0 gives the mean");
        var w = TorchAssert.Values(weights);
        Assert.Equal(0f, w[6 + 4]);
        Assert.Equal(1f, w.AsSpan(6, 6).ToArray().Sum(), 1e-5f);
        using var up = torch.randn(2, h);
        (att * up).sum().backward();
        Assert.Contains(TorchAssert.Values(pooling.Query.grad!), v => v != 0f);
        Assert.Throws<InvalidOperationException>(() => BertPooling.Pool(PoolingKind.Pooler, hidden, mask, pooler: null));
    }

    [Fact]
    public void FineTuningModes_FreezeWhatTheySay()
    {
        using var model = new BertModel(SmallConfig(), seed: 5);
        model.ApplyFineTuning(BertFineTuning.Frozen);
        Assert.Empty(model.TrainableParameters());
        model.ApplyFineTuning(BertFineTuning.FreezeBottom(1));
        var trainable = model.TrainableParameters().Select(p => p.Name).ToList();
        Assert.DoesNotContain(trainable, n => n.StartsWith("embeddings.", StringComparison.Ordinal) || n.StartsWith("encoder.layer.0.", StringComparison.Ordinal));
        Assert.Contains("encoder.layer.1.attention.self.query.weight", trainable);
        Assert.Contains("pooler.dense.weight", trainable);
        var batch = RandomBatch(new Rng(2), 64, 2, 6, [6, 4]);
        using (var o = model.Forward(batch)) o.LastHiddenState.sum().backward();
        Assert.Null(model.Encoder.Layer[0].Output.Dense.Weight.grad);
        Assert.NotNull(model.Encoder.Layer[1].Output.Dense.Weight.grad);
        model.ApplyFineTuning(BertFineTuning.Full);
        Assert.Equal(model.parameters().Count(), model.TrainableParameters().Count());
        Assert.Throws<ArgumentOutOfRangeException>(() => model.ApplyFineTuning(BertFineTuning.FreezeBottom(3)));
    }

    [Fact]
    public void Lora_TrainsOnlyAdapters_ChangesOutputs_MergesExactly_AndRoundTripsAdapters()
    {
        using var model = new BertModel(SmallConfig(), seed: 6);
        string baseFolder = Path.Combine(_dir, "base");
        model.Save(baseFolder);
        model.eval();
        var batch = RandomBatch(new Rng(2), 64, 2, 6, [6, 4]);
        var before = Hidden(model, batch);

        model.ApplyFineTuning(BertFineTuning.Lora(rank: 4, alpha: 8));
        Assert.Equal(before, Hidden(model, batch)); // B = 0: adapters start as the identity
        var trainable = model.TrainableParameters().Select(p => p.Name).ToList();
        Assert.Equal(8, trainable.Count);
        Assert.All(trainable, n => Assert.Matches(@"^encoder\.layer\.\d\.attention\.self\.(query|value)\.lora_[AB]$", n));
        using var optimizer = Optimizers.AdamW(model.named_parameters(), 1e-2);
        var frozenBefore = TorchAssert.Values(model.Encoder.Layer[0].Attention.Self.Query.Weight);
        using var target = torch.randn(2, 6, 16, generator: new Generator(8));
        for (int step = 0; step < 5; step++)
        {
            using var scope = torch.NewDisposeScope();
            optimizer.zero_grad();
            using var o = model.Forward(batch);
            nn.functional.mse_loss(o.LastHiddenState, target).backward();
            Assert.Null(model.Encoder.Layer[0].Attention.Self.Key.Weight.grad);
            optimizer.step();
        }
        Assert.Equal(frozenBefore, TorchAssert.Values(model.Encoder.Layer[0].Attention.Self.Query.Weight));
        var tuned = Hidden(model, batch);
        Assert.True(tuned.Zip(before).Max(p => MathF.Abs(p.First - p.Second)) > 1e-3f, "LoRA training did not change the outputs");

        string adapters = Path.Combine(_dir, "adapters.safetensors");
        model.SaveLoraAdapters(adapters);
        using var other = BertModel.Load(baseFolder);
        other.LoadLoraAdapters(adapters);
        TorchAssert.Close(tuned, Hidden(other, batch), 1e-6f, "outputs with loaded adapters");

        string merged = Path.Combine(_dir, "merged");
        model.Save(merged);
        Assert.DoesNotContain(SafeTensors.Load(Path.Combine(merged, "model.safetensors")).Names, n => n.Contains("lora", StringComparison.Ordinal));
        using (var m = BertModel.Load(merged)) TorchAssert.Close(tuned, Hidden(m, batch), 1e-5f, "outputs of the saved merged model");
        model.MergeLora();
        Assert.False(model.HasLora);
        Assert.DoesNotContain(model.named_parameters(), p => p.name.Contains("lora", StringComparison.Ordinal));
        TorchAssert.Close(tuned, Hidden(model, batch), 1e-5f, "outputs after MergeLora");
    }

    [Fact]
    public void EncodeTexts_BatchedByLength_EqualsOneByOne_AndRestoresTrainingMode()
    {
        using var model = new BertModel(SmallConfig(), seed: 7) { Tokenizer = BertTokenizer.Create(Vocab(64)) };
        string[] texts = ["w5 w6 w7 w8 w9 w10 w11", "w12", "w13 w14 w15", "", "w20 w21 w22 w23 w24 w25 w26 w27 w28 w29", "w30 w31"];
        using var together = model.EncodeTexts(texts, PoolingKind.Mean, batchSize: 3);
        Assert.Equal([6L, 16L], together.shape);
        var all = TorchAssert.Values(together);
        for (int i = 0; i < texts.Length; i++)
        {
            using var alone = model.EncodeTexts([texts[i]], PoolingKind.Mean, batchSize: 1);
            TorchAssert.Close(TorchAssert.Values(alone), all.AsSpan(i * 16, 16).ToArray(), 1e-5f, texts[i]);
        }
        Assert.True(model.training);
    }

    [Fact]
    public void Inference_LeavesNoLiveTensorsBehind()
    {
        using var model = new BertModel(SmallConfig(), seed: 7) { Tokenizer = BertTokenizer.Create(Vocab(64)) };
        string[] texts = ["w5 w6 w7", "w12 w13", "w20"];
        for (int i = 0; i < 3; i++) model.EncodeTexts(texts).Dispose(); // warm-up
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 50; i++) model.EncodeTexts(texts).Dispose();
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Device_IsHonoured_OnTheCpu()
    {
        var cpu = new Device(DeviceType.CPU);
        using var model = new BertModel(SmallConfig(), seed: 1, device: cpu);
        Assert.Equal(DeviceType.CPU, model.Device.type);
        Assert.All(model.parameters(), p => Assert.Equal(DeviceType.CPU, p.device.type));
        var (ids, _, _) = model.ToTensors(RandomBatch(new Rng(1), 64, 1, 4, [4]));
        Assert.Equal(DeviceType.CPU, ids.device.type);
        Assert.Equal(ScalarType.Int64, ids.dtype);
    }

    internal static List<string> Vocab(int size)
    {
        var v = new List<string> { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]" };
        for (int i = v.Count; i < size; i++) v.Add("w" + i);
        return v;
    }
}

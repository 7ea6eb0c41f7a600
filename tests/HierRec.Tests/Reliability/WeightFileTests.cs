using System.Buffers.Binary;
using System.Text;
using HierRec.Ranking;
using HierRec.Serialization;
using HierRec.Text;
using EngineTensor = HierRec.Serialization.FloatTensor;

namespace HierRec.Tests.Reliability;

/// <summary>safetensors files, BERT folders and .hrix indexes built in code to lie about their sizes and paths.</summary>
[Trait("Category", "Hostile")]
public sealed class WeightFileTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "hierrec-weights-" + Guid.NewGuid().ToString("N"));

    public WeightFileTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private string SafeTensorsWithHeader(string name, byte[] header, int dataBytes = 0)
    {
        string path = Path.Combine(_dir, name);
        using var fs = File.Create(path);
        var length = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        fs.Write(length);
        fs.Write(header);
        fs.Write(new byte[dataBytes]);
        return path;
    }

    [Fact]
    public void AHeaderOfMillionsOfEmptyTensors_IsRefusedWithoutExhaustingMemory()
    {
        // ~99 MB of {"t0000000":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}, ...}: 1.7 M tensors, streamed to the
        // file in pieces so the test itself holds none of it.
        var entry = "\"t0000000\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},"u8.ToArray();
        int count = 98_000_000 / entry.Length;
        string path = Path.Combine(_dir, "many.safetensors");
        using (var fs = File.Create(path))
        {
            var length = new byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)(count * entry.Length + 1));
            fs.Write(length);
            fs.WriteByte((byte)'{');
            var chunk = new byte[entry.Length * 4096];
            for (int i = 0; i < count; i += 4096)
            {
                int m = Math.Min(4096, count - i);
                for (int j = 0; j < m; j++)
                {
                    var slot = chunk.AsSpan(j * entry.Length, entry.Length);
                    entry.CopyTo(slot);
                    System.Text.Encoding.ASCII.GetBytes((i + j).ToString("D7"), slot.Slice(2, 7));
                }
                if (i + m == count) chunk[m * entry.Length - 1] = (byte)'}'; // replaces the last entry's comma
                fs.Write(chunk, 0, m * entry.Length);
            }
        }
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var ex = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path));
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.Contains($"more than {SafeTensors.MaxTensors} tensors", ex.Message);
        Assert.True(allocated < 400_000_000, $"{allocated / 1e6:F0} MB allocated to refuse the header");
    }

    [Theory]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", "appears twice")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", "more than 16 dimensions")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2000000000,2000000000],\"data_offsets\":[0,4]}}", "shape is too large")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", "data_offsets")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", "data_offsets")]
    [InlineData("{\"a\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,4]}}", "not supported")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", "needs 8")]
    [InlineData("{\"a\":", "not valid JSON")]
    [InlineData("[]", "not a JSON object")]
    public void LyingHeaders_AreRefusedNamingTheTensor(string header, string expected)
    {
        string path = SafeTensorsWithHeader("bad.safetensors", Encoding.UTF8.GetBytes(header), dataBytes: 8);
        var ex = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path));
        Assert.Contains(expected, ex.Message);
        Assert.Contains("bad.safetensors", ex.Message);
    }

    private string BertFolder(Action<string>? edit = null)
    {
        string folder = Path.Combine(_dir, "bert-" + Guid.NewGuid().ToString("N")[..6]);
        using var model = new BertModel(new BertConfig { VocabSize = 30, HiddenSize = 8, NumHiddenLayers = 1, NumAttentionHeads = 2, IntermediateSize = 16, MaxPositionEmbeddings = 16 }, seed: 1);
        model.Save(folder);
        File.Delete(Path.Combine(folder, FolderChecksums.FileName)); // as a folder from elsewhere: no manifest to lean on
        edit?.Invoke(folder);
        return folder;
    }

    [Fact]
    public void AConfigDeclaringAHugeVocabulary_IsRefusedBeforeTheModelIsAllocated()
    {
        string folder = BertFolder(f => File.WriteAllText(Path.Combine(f, "config.json"),
            File.ReadAllText(Path.Combine(f, "config.json")).Replace("\"vocab_size\": 30", "\"vocab_size\": 2000000")));
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var ex = Assert.Throws<InvalidDataException>(() => BertModel.Load(folder));
        Assert.Contains("config.json declares an encoder of", ex.Message);
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - before < 50_000_000);
    }

    [Theory]
    [InlineData("/etc/passwd", "not a relative path")]
    [InlineData("../../../../etc/passwd", "points outside the folder")]
    [InlineData("sub\\\\..\\\\..\\\\x", "not a relative path")]
    public void ShardPathsFromTheIndex_AreConfinedToTheFolder(string shard, string expected)
    {
        string folder = BertFolder(f =>
        {
            File.Delete(Path.Combine(f, "model.safetensors"));
            File.WriteAllText(Path.Combine(f, "model.safetensors.index.json"), $"{{\"weight_map\": {{\"embeddings.word_embeddings.weight\": \"{shard}\"}}}}");
        });
        Assert.Contains(expected, Assert.Throws<InvalidDataException>(() => BertModel.Load(folder)).Message);
    }

    [Fact]
    public void ALinkOutOfTheFolder_AMalformedIndex_AndAShardHoldingUnmappedTensors_AreClearErrors()
    {
        string outside = Path.Combine(_dir, "outside.safetensors");
        File.WriteAllBytes(outside, [0, 0, 0, 0, 0, 0, 0, 0]);
        string folder = BertFolder(f =>
        {
            File.Move(Path.Combine(f, "model.safetensors"), Path.Combine(f, "shard-1.safetensors"));
            File.CreateSymbolicLink(Path.Combine(f, "shard-2.safetensors"), outside);
            File.WriteAllText(Path.Combine(f, "model.safetensors.index.json"), "{\"weight_map\": {\"pooler.dense.bias\": \"shard-2.safetensors\"}}");
        });
        Assert.Contains("leads outside the folder", Assert.Throws<InvalidDataException>(() => BertModel.Load(folder)).Message);

        File.WriteAllText(Path.Combine(folder, "model.safetensors.index.json"), "{\"weight_map\": {\"x\": ");
        Assert.Contains("not valid JSON", Assert.Throws<InvalidDataException>(() => BertModel.Load(folder)).Message);

        File.WriteAllText(Path.Combine(folder, "model.safetensors.index.json"), "{\"weight_map\": {\"pooler.dense.bias\": 7}}");
        Assert.Contains("is not a shard file name", Assert.Throws<InvalidDataException>(() => BertModel.Load(folder)).Message);

        File.WriteAllText(Path.Combine(folder, "model.safetensors.index.json"), "{\"weight_map\": {\"pooler.dense.bias\": \"shard-1.safetensors\"}}");
        Assert.Contains("is not mapped to this shard", Assert.Throws<InvalidDataException>(() => BertModel.Load(folder)).Message);
    }

    [Fact]
    public void NonFiniteBertWeights_AreRefusedWithTheTensorName()
    {
        string folder = BertFolder(f =>
        {
            var content = SafeTensors.Load(Path.Combine(f, "model.safetensors"));
            var tensors = content.Tensors.ToDictionary();
            tensors["encoder.layer.0.output.dense.bias"].Data[3] = float.PositiveInfinity;
            SafeTensors.Save(Path.Combine(f, "model.safetensors"), tensors);
        });
        var ex = Assert.Throws<InvalidDataException>(() => BertModel.Load(folder));
        Assert.Contains("tensor 'encoder.layer.0.output.dense.bias' has a non-finite value", ex.Message);
    }

    /// <summary>A .hrix header with a valid CRC over whatever it claims.</summary>
    private string Index(int count, int dimension, byte[]? rows = null)
    {
        var header = new byte[28];
        "HRITEMIX"u8.CopyTo(header);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(8), 1);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(20), count);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(24), dimension);
        var body = header.Concat(rows ?? []).ToArray();
        var crc = new byte[4];
        var checksum = new Crc32();
        checksum.Append(body);
        BinaryPrimitives.WriteUInt32LittleEndian(crc, checksum.Value);
        string path = Path.Combine(_dir, Guid.NewGuid().ToString("N") + ".hrix");
        File.WriteAllBytes(path, body.Concat(crc).ToArray());
        return path;
    }

    [Theory]
    [InlineData(0, 500_000_000)]
    [InlineData(0, 600_000_000)]
    [InlineData(1, ItemIndex.MaxDimension + 1)]
    [InlineData(2_000_000_000, 64)]
    public void IndexHeadersThatDeclareHugeShapes_AreRefusedBeforeAllocating(int count, int dimension)
    {
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var ex = Assert.Throws<InvalidDataException>(() => ItemIndex.Load(Index(count, dimension)));
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - before < 10_000_000);
        Assert.Contains(".hrix", ex.Message);
    }

    [Fact]
    public void AnIndexRowWithANonFiniteValue_IsRefusedNamingTheItem()
    {
        var row = new byte[8];
        BinaryPrimitives.WriteSingleLittleEndian(row, 1f);
        BinaryPrimitives.WriteSingleLittleEndian(row.AsSpan(4), float.NaN);
        Assert.Contains("item 0 is corrupt", Assert.Throws<InvalidDataException>(() => ItemIndex.Load(Index(1, 2, row))).Message);
    }

    [Fact]
    public void TheFloatTensorScan_FindsTheFirstNonFiniteValue()
    {
        var values = new float[1003];
        Assert.Equal(-1, EngineTensor.IndexOfNonFinite(values));
        values[1001] = float.NegativeInfinity;
        values[517] = float.NaN;
        Assert.Equal(517, EngineTensor.IndexOfNonFinite(values));
    }
}

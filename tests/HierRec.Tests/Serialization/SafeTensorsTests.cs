using System.Buffers.Binary;
using System.Text;
using HierRec.Serialization;
using Tensor = HierRec.Serialization.FloatTensor;

namespace HierRec.Tests.Serialization;

public sealed class SafeTensorsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "hierrec-st-" + Guid.NewGuid().ToString("N"));

    public SafeTensorsTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void RoundTrip_PreservesNamesShapesValuesOrderAndMetadata()
    {
        var values = new float[12];
        new Rng(1).FillNormal(values, 0, 1);
        var a = new Tensor(values, 3, 4);
        var b = Tensor.FromArray(new float[] { float.NaN, -0f, float.PositiveInfinity }, 3);
        var empty = new Tensor(0, 5);
        string path = Path.Combine(_dir, "m.safetensors");
        SafeTensors.Save(path, [new("z.weight", a), new("a.bias", b), new("empty", empty)], new Dictionary<string, string> { ["format"] = "pt" });
        var loaded = SafeTensors.Load(path);
        Assert.Equal(["z.weight", "a.bias", "empty"], loaded.Names);
        Assert.Equal(a.ToArray(), loaded.Tensors["z.weight"].ToArray());
        Assert.Equal(new[] { 3, 4 }, loaded.Tensors["z.weight"].Shape.ToArray());
        Assert.Equal(b.ToArray(), loaded.Tensors["a.bias"].ToArray());
        Assert.Equal(new[] { 0, 5 }, loaded.Tensors["empty"].Shape.ToArray());
        Assert.Equal("pt", loaded.Metadata["format"]);
    }

    [Fact]
    public void Reads_F16AndBF16_Converting()
    {
        var half = new byte[4];
        BinaryPrimitives.WriteUInt16LittleEndian(half, BitConverter.HalfToUInt16Bits((Half)1.5f));
        BinaryPrimitives.WriteUInt16LittleEndian(half.AsSpan(2), (ushort)(BitConverter.SingleToInt32Bits(-2.25f) >> 16));
        var bytes = Build("{\"h\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,2]},\"b\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[2,4]}}", half);
        var content = SafeTensors.Load(new MemoryStream(bytes));
        Assert.Equal(1.5f, content.Tensors["h"].Data[0]);
        Assert.Equal(-2.25f, content.Tensors["b"].Data[0]);
    }

    [Fact]
    public void Reads_IntegerAndF64Tensors_AsFloat()
    {
        // Hugging Face checkpoints carry an I64 position_ids buffer; it must load, not fail.
        var data = new byte[8 * 3 + 8 + 4 + 1];
        for (int i = 0; i < 3; i++) BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(i * 8), i - 1);
        BinaryPrimitives.WriteDoubleLittleEndian(data.AsSpan(24), 0.25);
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(32), -7);
        data[36] = 1;
        var bytes = Build("{\"p\":{\"dtype\":\"I64\",\"shape\":[1,3],\"data_offsets\":[0,24]},\"d\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[24,32]},"
            + "\"i\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[32,36]},\"b\":{\"dtype\":\"BOOL\",\"shape\":[1],\"data_offsets\":[36,37]}}", data);
        var content = SafeTensors.Load(new MemoryStream(bytes));
        Assert.Equal(new[] { -1f, 0f, 1f }, content.Tensors["p"].ToArray());
        Assert.Equal(0.25f, content.Tensors["d"].Data[0]);
        Assert.Equal(-7f, content.Tensors["i"].Data[0]);
        Assert.Equal(1f, content.Tensors["b"].Data[0]);
    }

    public static IEnumerable<object[]> MalformedHeaders() =>
    [
        ["{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,16]}}", 8, "'w'"],           // offsets beyond data
        ["{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "'w'"],            // shape product mismatch
        ["{\"w\":{\"dtype\":\"C64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8, "'w'"],            // unsupported dtype
        ["{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"v\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "'v'"], // overlap
        ["{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 8, "'w'"],           // negative dimension
        ["{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8, "'w'"],            // end before begin
        ["{not json", 8, "JSON"],
    ];

    [Theory]
    [MemberData(nameof(MalformedHeaders))]
    public void MalformedHeader_IsInvalidDataException_NamingTheTensor(string header, int dataBytes, string expectedInMessage)
    {
        var ex = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(new MemoryStream(Build(header, new byte[dataBytes])), "bad.safetensors"));
        Assert.Contains(expectedInMessage, ex.Message);
        Assert.Contains("bad.safetensors", ex.Message);
    }

    [Fact]
    public void HeaderLengthLargerThanFile_OrThan100MB_IsRejectedBeforeAllocating()
    {
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 1000);
        Assert.Contains("larger than the file", Assert.Throws<InvalidDataException>(() => SafeTensors.Load(new MemoryStream(bytes))).Message);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, ulong.MaxValue);
        Assert.Contains("limit", Assert.Throws<InvalidDataException>(() => SafeTensors.Load(new MemoryStream(bytes))).Message);
        Assert.Throws<InvalidDataException>(() => SafeTensors.Load(new MemoryStream(new byte[3])));
    }

    [Fact]
    public void FailedSave_LeavesThePreviousCheckpointIntact()
    {
        string path = Path.Combine(_dir, "ckpt.safetensors");
        SafeTensors.Save(path, [new("w", new Tensor([7f, 7f, 7f, 7f], 4))]);
        var before = File.ReadAllBytes(path);
        Assert.Throws<ArgumentException>(() => SafeTensors.Save(path, [new("w", new Tensor([1f, 1f, 1f, 1f], 4)), new("w", new Tensor([2f, 2f, 2f, 2f], 4))]));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(_dir)); // no temporary file left behind
    }

    private static byte[] Build(string header, byte[] data)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)h.Length);
        h.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + h.Length);
        return bytes;
    }
}

using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

using Tensor = HierRec.Serialization.FloatTensor;

namespace HierRec.Serialization;

/// <summary>
/// Reads and writes the safetensors format: an 8-byte little-endian header length, a UTF-8 JSON header mapping names
/// to dtype, shape and data offsets, then raw little-endian data. Writes F32; reads F32, F16 and BF16, and also F64 and integer tensors (I64, I32, I16, I8, U8, BOOL, such as
/// Hugging Face's <c>position_ids</c> buffers), all converted to float32 (integers beyond 2²⁴ lose precision).
/// </summary>
/// <remarks>
/// Every header is checked before anything large is allocated: the header's size against the file and a 100 MB cap,
/// each tensor's dtype, shape, offsets (inside the data, consistent with shape × dtype size, not overlapping). A
/// violation is an <see cref="InvalidDataException"/> that names the file and the tensor.
/// </remarks>
public static class SafeTensors
{
    /// <summary>Largest accepted JSON header.</summary>
    public const long MaxHeaderBytes = 100L * 1024 * 1024;

    /// <summary>Reads a safetensors file.</summary>
    /// <exception cref="InvalidDataException">The file is malformed; the message names the tensor at fault.</exception>
    public static SafeTensorsContent Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return Load(fs, path);
    }

    /// <summary>Reads safetensors from a seekable stream; <paramref name="sourceName"/> appears in error messages.</summary>
    public static SafeTensorsContent Load(Stream stream, string sourceName = "stream")
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek) throw new ArgumentException("The stream must be seekable.", nameof(stream));
        long fileLength = stream.Length;
        Span<byte> lenBytes = stackalloc byte[8];
        if (fileLength < 8 || !TryReadExactly(stream, lenBytes))
        {
            throw new InvalidDataException($"{sourceName}: not a safetensors file (shorter than the 8-byte header length).");
        }
        ulong headerLen = BinaryPrimitives.ReadUInt64LittleEndian(lenBytes);
        if (headerLen > MaxHeaderBytes)
        {
            throw new InvalidDataException($"{sourceName}: header length {headerLen} bytes exceeds the {MaxHeaderBytes}-byte limit.");
        }
        if ((long)headerLen > fileLength - 8)
        {
            throw new InvalidDataException($"{sourceName}: header length {headerLen} bytes is larger than the file ({fileLength} bytes).");
        }
        var header = new byte[headerLen];
        if (!TryReadExactly(stream, header)) throw new InvalidDataException($"{sourceName}: truncated header.");
        long dataStart = 8 + (long)headerLen, dataLength = fileLength - dataStart;

        var entries = ParseHeader(header, sourceName, dataLength, out var metadata);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var names = new List<string>(entries.Count);
        foreach (var e in entries)
        {
            var t = new Tensor(e.Shape);
            stream.Position = dataStart + e.Begin;
            ReadData(stream, e, t.Data, sourceName);
            t.Name = e.Name;
            tensors[e.Name] = t;
            names.Add(e.Name);
        }
        return new SafeTensorsContent(tensors, names, metadata);
    }

    /// <summary>Writes tensors (as F32, in the given order) and optional metadata atomically to <paramref name="path"/>.</summary>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var list = tensors.ToList();
        AtomicFile.Write(path, s => Save(s, list, metadata));
    }

    /// <summary>Writes tensors (as F32) and optional metadata to a stream.</summary>
    public static void Save(Stream stream, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(tensors);
        var list = tensors.ToList();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) w.WriteString(k, v);
                w.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, t) in list)
            {
                ArgumentException.ThrowIfNullOrEmpty(name);
                if (name == "__metadata__" || !seen.Add(name)) throw new ArgumentException($"Duplicate or reserved tensor name '{name}'.", nameof(tensors));
                w.WriteStartObject(name);
                w.WriteString("dtype", "F32");
                w.WriteStartArray("shape");
                foreach (int d in t.Shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + 4L * t.Length);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += 4L * t.Length;
            }
            w.WriteEndObject();
        }
        // Pad the header with spaces to a multiple of 8 bytes, as the reference implementation does.
        int pad = (int)((8 - ms.Length % 8) % 8);
        for (int i = 0; i < pad; i++) ms.WriteByte((byte)' ');
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)ms.Length);
        stream.Write(len);
        ms.Position = 0;
        ms.CopyTo(stream);
        foreach (var (_, t) in list)
        {
            ReadOnlySpan<float> data = t.Data;
            if (BitConverter.IsLittleEndian)
            {
                stream.Write(MemoryMarshal.AsBytes(data));
            }
            else
            {
                var buf = new byte[4];
                foreach (float f in data)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(buf, f);
                    stream.Write(buf);
                }
            }
        }
    }

    private sealed record Entry(string Name, string Dtype, int[] Shape, long Begin, long End);

    /// <summary>Most tensors one file may declare (the largest Hugging Face shards hold a few thousand).</summary>
    public const int MaxTensors = 100_000;

    private const int MaxRank = 16;

    /// <summary>
    /// Parses the header with a forward-only reader, so memory stays bounded by the tensors it accepts (at most
    /// <see cref="MaxTensors"/>), not by what the header claims. Duplicate names are an error, not "last one wins".
    /// </summary>
    private static List<Entry> ParseHeader(byte[] header, string source, long dataLength, out Dictionary<string, string> metadata)
    {
        metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var entries = new List<Entry>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var reader = new Utf8JsonReader(header, new JsonReaderOptions { MaxDepth = 8 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new InvalidDataException($"{source}: the header is not a JSON object.");
            while (Next(ref reader, source) != JsonTokenType.EndObject)
            {
                string name = reader.GetString()!;
                if (!names.Add(name)) throw new InvalidDataException($"{source}: tensor '{Excerpt(name)}' appears twice in the header.");
                Next(ref reader, source);
                if (name == "__metadata__")
                {
                    if (reader.TokenType != JsonTokenType.StartObject) throw new InvalidDataException($"{source}: __metadata__ is not an object.");
                    while (Next(ref reader, source) != JsonTokenType.EndObject)
                    {
                        string key = reader.GetString()!;
                        if (Next(ref reader, source) != JsonTokenType.String) throw new InvalidDataException($"{source}: metadata '{Excerpt(key)}' is not a string.");
                        metadata[key] = reader.GetString()!;
                    }
                    continue;
                }
                if (entries.Count == MaxTensors) throw new InvalidDataException($"{source}: the header declares more than {MaxTensors} tensors.");
                entries.Add(ParseEntry(ref reader, name, source, dataLength));
            }
            if (reader.Read()) throw new InvalidDataException($"{source}: data after the header's closing brace.");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{source}: the header is not valid JSON ({ex.Message}).", ex);
        }
        var byOffset = entries.Where(e => e.End > e.Begin).OrderBy(e => e.Begin).ToList();
        for (int i = 1; i < byOffset.Count; i++)
        {
            if (byOffset[i].Begin < byOffset[i - 1].End)
                throw new InvalidDataException($"{source}: tensor '{Excerpt(byOffset[i].Name)}' overlaps tensor '{Excerpt(byOffset[i - 1].Name)}' in the data section.");
        }
        return entries;
    }

    private static Entry ParseEntry(ref Utf8JsonReader reader, string name, string source, long dataLength)
    {
        string shown = Excerpt(name);
        if (reader.TokenType != JsonTokenType.StartObject) throw new InvalidDataException($"{source}: tensor '{shown}': entry is not an object.");
        string? dtype = null;
        int[]? shape = null;
        long begin = 0, end = 0, count = 1;
        bool offsets = false;
        while (Next(ref reader, source) != JsonTokenType.EndObject)
        {
            string field = reader.GetString()!;
            Next(ref reader, source);
            switch (field)
            {
                case "dtype":
                    if (reader.TokenType != JsonTokenType.String) throw new InvalidDataException($"{source}: tensor '{shown}': dtype is not a string.");
                    dtype = reader.GetString()!;
                    break;
                case "shape":
                    if (reader.TokenType != JsonTokenType.StartArray) throw new InvalidDataException($"{source}: tensor '{shown}': shape is not an array.");
                    var dims = new List<int>();
                    count = 1;
                    while (Next(ref reader, source) != JsonTokenType.EndArray)
                    {
                        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long dv) || dv < 0 || dv > int.MaxValue)
                            throw new InvalidDataException($"{source}: tensor '{shown}': invalid dimension in shape.");
                        if (dims.Count == MaxRank) throw new InvalidDataException($"{source}: tensor '{shown}': more than {MaxRank} dimensions.");
                        dims.Add((int)dv);
                        count = dv == 0 || count == 0 ? 0 : count > Array.MaxLength / dv ? long.MaxValue : count * dv;
                        if (count > Array.MaxLength) throw new InvalidDataException($"{source}: tensor '{shown}': shape is too large.");
                    }
                    shape = [.. dims];
                    if (shape.Length == 0) count = 1;
                    break;
                case "data_offsets":
                    if (reader.TokenType != JsonTokenType.StartArray) throw new InvalidDataException($"{source}: tensor '{shown}': data_offsets must be [begin, end].");
                    var values = new List<long>(2);
                    while (Next(ref reader, source) != JsonTokenType.EndArray)
                    {
                        if (values.Count == 2 || reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long o))
                            throw new InvalidDataException($"{source}: tensor '{shown}': data_offsets must be [begin, end] integers.");
                        values.Add(o);
                    }
                    if (values.Count != 2) throw new InvalidDataException($"{source}: tensor '{shown}': data_offsets must be [begin, end].");
                    (begin, end, offsets) = (values[0], values[1], true);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
        if (dtype is null) throw new InvalidDataException($"{source}: tensor '{shown}': missing dtype.");
        int size = DtypeSize(dtype);
        if (size == 0) throw new InvalidDataException($"{source}: tensor '{shown}': dtype {Excerpt(dtype)} is not supported (F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL).");
        if (shape is null) throw new InvalidDataException($"{source}: tensor '{shown}': missing shape.");
        if (!offsets) throw new InvalidDataException($"{source}: tensor '{shown}': data_offsets must be [begin, end].");
        if (begin < 0 || end < begin || end > dataLength)
            throw new InvalidDataException($"{source}: tensor '{shown}': data_offsets [{begin}, {end}] are outside the {dataLength}-byte data section.");
        if (end - begin != count * size)
            throw new InvalidDataException($"{source}: tensor '{shown}': {end - begin} bytes of data but shape {Tensor.ShapeString(shape)} × {dtype} needs {count * size}.");
        return new Entry(name, dtype, shape, begin, end);
    }

    private static JsonTokenType Next(ref Utf8JsonReader reader, string source)
    {
        if (!reader.Read()) throw new InvalidDataException($"{source}: the header ends early.");
        return reader.TokenType;
    }

    /// <summary>At most 80 characters of a name from a file, for messages.</summary>
    internal static string Excerpt(string text) => text.Length <= 80 ? text : string.Concat(text.AsSpan(0, 77), "...");

    private static int DtypeSize(string dtype) => dtype switch
    {
        "F32" => 4,
        "F16" or "BF16" or "I16" => 2,
        "F64" or "I64" => 8,
        "I32" => 4,
        "I8" or "U8" or "BOOL" => 1,
        _ => 0,
    };

    private static void ReadData(Stream stream, Entry e, Span<float> destination, string source)
    {
        if (e.Dtype == "F32")
        {
            var bytes = MemoryMarshal.AsBytes(destination);
            if (!TryReadExactly(stream, bytes)) throw new InvalidDataException($"{source}: tensor '{e.Name}': data is truncated.");
            if (!BitConverter.IsLittleEndian)
            {
                for (int i = 0; i < destination.Length; i++)
                    destination[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(i * 4, 4));
            }
            return;
        }
        int size = DtypeSize(e.Dtype);
        var raw = new byte[destination.Length * size];
        if (!TryReadExactly(stream, raw)) throw new InvalidDataException($"{source}: tensor '{e.Name}': data is truncated.");
        for (int i = 0; i < destination.Length; i++)
        {
            var b = raw.AsSpan(i * size, size);
            destination[i] = e.Dtype switch
            {
                "F16" => (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(b)),
                "BF16" => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(b) << 16),
                "F64" => (float)BinaryPrimitives.ReadDoubleLittleEndian(b),
                "I64" => BinaryPrimitives.ReadInt64LittleEndian(b),
                "I32" => BinaryPrimitives.ReadInt32LittleEndian(b),
                "I16" => BinaryPrimitives.ReadInt16LittleEndian(b),
                "I8" => (sbyte)b[0],
                _ => b[0], // U8, BOOL
            };
        }
    }

    /// <summary>Reads exactly buffer.Length bytes; false if the stream ends first.</summary>
    private static bool TryReadExactly(Stream s, Span<byte> buffer) => s.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false) == buffer.Length;

    /// <summary>UTF-8 without BOM, for headers written by other tools.</summary>
    internal static readonly Encoding Utf8 = new UTF8Encoding(false);
}

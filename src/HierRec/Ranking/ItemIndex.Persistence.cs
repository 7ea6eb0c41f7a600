using System.Buffers.Binary;
using HierRec.Serialization;

namespace HierRec.Ranking;

/// <summary>Persistence: the index file, written atomically and checked on load.</summary>
public sealed unsafe partial class ItemIndex
{
    private static ReadOnlySpan<byte> Magic => "HRITEMIX"u8;
    private const int FormatVersion = 1;

    /// <summary>Writes the index atomically (temporary file, then rename): a crash never leaves a torn index behind.</summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        _lock.EnterReadLock();
        try
        {
            AtomicFile.Write(path, WriteTo);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    private void WriteTo(Stream stream)
    {
        var crc = new Crc32();
        void Put(ReadOnlySpan<byte> bytes)
        {
            crc.Append(bytes);
            stream.Write(bytes);
        }
        Span<byte> header = stackalloc byte[8 + 5 * 4];
        Magic.CopyTo(header);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], FormatVersion);
        BinaryPrimitives.WriteInt32LittleEndian(header[12..], (int)Precision);
        BinaryPrimitives.WriteInt32LittleEndian(header[16..], (int)Similarity);
        BinaryPrimitives.WriteInt32LittleEndian(header[20..], Count);
        BinaryPrimitives.WriteInt32LittleEndian(header[24..], Dimension);
        Put(header);
        // The float32 rows (unpadded, little-endian); quantised forms are rebuilt deterministically on load.
        var row = new byte[Dimension * 4];
        for (int i = 0; i < Count; i++)
        {
            var src = _f32.AsSpan(i * Stride, Dimension);
            for (int j = 0; j < Dimension; j++) BinaryPrimitives.WriteSingleLittleEndian(row.AsSpan(j * 4), src[j]);
            Put(row);
        }
        Span<byte> tail = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(tail, crc.Value);
        stream.Write(tail);
    }

    /// <summary>Reads an index written by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not an index, is truncated, or fails its checksum; the message names the file.</exception>
    public static ItemIndex Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var crc = new Crc32();
        Span<byte> header = stackalloc byte[28];
        if (!ReadExactly(fs, header) || !header[..8].SequenceEqual(Magic))
        {
            throw new InvalidDataException($"{path}: not a HierRec item index (bad magic or too short).");
        }
        crc.Append(header);
        int version = BinaryPrimitives.ReadInt32LittleEndian(header[8..]);
        if (version != FormatVersion) throw new InvalidDataException($"{path}: index format version {version} is not supported (expected {FormatVersion}).");
        var precision = (VectorPrecision)BinaryPrimitives.ReadInt32LittleEndian(header[12..]);
        var similarity = (Similarity)BinaryPrimitives.ReadInt32LittleEndian(header[16..]);
        int count = BinaryPrimitives.ReadInt32LittleEndian(header[20..]);
        int dim = BinaryPrimitives.ReadInt32LittleEndian(header[24..]);
        if (!Enum.IsDefined(precision) || !Enum.IsDefined(similarity) || count < 0 || dim <= 0 || dim > MaxDimension)
        {
            throw new InvalidDataException($"{path}: corrupt header (precision {(int)precision}, similarity {(int)similarity}, count {count}, dimension {dim}; dimensions are 1 to {MaxDimension}).");
        }
        if (precision == VectorPrecision.Int8 && dim > 4096) throw new InvalidDataException($"{path}: an Int8 index of dimension {dim}; Int8 indexes have at most 4096.");
        if (CapacityError(count, dim) is { } tooLarge) throw new InvalidDataException($"{path}: {tooLarge}");
        long expected = 28L + (long)count * dim * 4 + 4;
        if (fs.Length != expected)
        {
            throw new InvalidDataException($"{path}: {fs.Length} bytes, but {count} items × {dim} dimensions need {expected} (truncated or corrupt).");
        }
        var index = new ItemIndex(count, dim, precision, similarity);
        var row = new byte[dim * 4];
        var values = new float[dim];
        for (int i = 0; i < count; i++)
        {
            ReadExactly(fs, row);
            crc.Append(row);
            for (int j = 0; j < dim; j++) values[j] = BinaryPrimitives.ReadSingleLittleEndian(row.AsSpan(j * 4));
            try
            {
                index.WriteRow(i, values);
            }
            catch (ArgumentException ex)
            {
                throw new InvalidDataException($"{path}: item {i} is corrupt ({ex.Message}).", ex);
            }
        }
        Span<byte> tail = stackalloc byte[4];
        ReadExactly(fs, tail);
        if (BinaryPrimitives.ReadUInt32LittleEndian(tail) != crc.Value)
        {
            throw new InvalidDataException($"{path}: checksum mismatch: the file is corrupt.");
        }
        return index;
    }

    /// <summary>Reads exactly buffer.Length bytes; false if the stream ends first.</summary>
    private static bool ReadExactly(Stream s, Span<byte> buffer) => s.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false) == buffer.Length;
}

using System.Text;

namespace HierRec.Data;

/// <summary>
/// Reads delimited text (CSV, TSV, '|'-separated) record by record with line numbers: optional double-quote quoting
/// (quoted fields may hold the delimiter, doubled quotes and line breaks), CRLF or LF line ends, any encoding.
/// </summary>
public sealed class DelimitedReader : IDisposable
{
    private readonly Stream? _bytes;          // byte-line path: UTF-8, Latin-1, single-byte code pages
    private readonly TextReader? _text;       // UTF-16/32: decoded by a StreamReader (its BOM rule checked here)
    private readonly Encoding _encoding;
    private readonly char _delimiter;
    private readonly bool _quoting;
    private readonly LoadOptions? _options;
    private readonly byte[] _buffer = new byte[1 << 16];
    private int _pos, _len;
    private byte[] _line = new byte[256];
    private long _nextLine = 1;

    /// <summary>
    /// Opens <paramref name="path"/> in <paramref name="encoding"/> (default UTF-8; invalid bytes are an error). The
    /// declared encoding always wins: a byte-order mark that agrees with it is skipped, one that disagrees (a UTF-8 mark
    /// on a file declared Latin-1) is an error, never a silent switch of encoding.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="delimiter">Field separator.</param>
    /// <param name="encoding">The file's encoding.</param>
    /// <param name="quoting">Whether double quotes delimit fields.</param>
    /// <param name="options">With <see cref="ErrorMode.Lenient"/>, a line with undecodable bytes is reported and skipped instead of thrown.</param>
    /// <exception cref="DataFormatException">The file does not exist, or its byte-order mark contradicts the encoding.</exception>
    public DelimitedReader(string path, char delimiter, Encoding? encoding = null, bool quoting = true, LoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!System.IO.File.Exists(path)) throw new DataFormatException(path, 0, 0, "file not found");
        File = path;
        _encoding = Strict(encoding ?? StrictUtf8);
        _delimiter = delimiter;
        _quoting = quoting;
        _options = options;
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        try
        {
            int bom = CheckByteOrderMark(stream, path, _encoding);
            stream.Position = bom;
            if (_encoding.GetByteCount("\n") == 1) _bytes = stream;
            else _text = new StreamReader(stream, _encoding, detectEncodingFromByteOrderMarks: false);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>UTF-8 that throws on invalid bytes instead of replacing them.</summary>
    public static Encoding StrictUtf8 { get; } = new UTF8Encoding(false, throwOnInvalidBytes: true);

    /// <summary>Resolves an encoding name ("utf-8", "latin1", "windows-1252", …).</summary>
    /// <exception cref="ArgumentException">The name is not an encoding this runtime knows.</exception>
    public static Encoding ResolveEncoding(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || name.Equals("utf8", StringComparison.OrdinalIgnoreCase)) return StrictUtf8;
        if (name.Equals("latin1", StringComparison.OrdinalIgnoreCase) || name.Equals("latin-1", StringComparison.OrdinalIgnoreCase)) return Encoding.Latin1;
        try
        {
            return Encoding.GetEncoding(name);
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"Unknown encoding '{name}'.", nameof(name), ex);
        }
    }

    /// <summary>The file being read.</summary>
    public string File { get; }

    /// <summary>Line number (1-based) where the last record returned by <see cref="Read"/> started.</summary>
    public long Line { get; private set; }

    /// <summary>Reads the next record; false at the end of the file. Blank lines are skipped.</summary>
    /// <exception cref="DataFormatException">Undecodable bytes (strict mode; the exact line) or an unterminated quoted field.</exception>
    public bool Read(out string[] fields)
    {
        while (true)
        {
            long number = _nextLine;
            string? line;
            try
            {
                line = ReadPhysicalLine();
            }
            catch (DataFormatException bad) when (_options is { ErrorMode: ErrorMode.Lenient })
            {
                _options.Fail(bad);
                continue;
            }
            if (line is null)
            {
                fields = [];
                return false;
            }
            Line = number;
            if (line.Length == 0) continue;
            fields = Split(line);
            return true;
        }
    }

    /// <summary>The next physical line, decoded strictly; its number is counted even when decoding fails.</summary>
    private string? ReadPhysicalLine()
    {
        long number = _nextLine;
        if (_text is not null)
        {
            try
            {
                string? t = _text.ReadLine();
                if (t is not null) _nextLine++;
                return t;
            }
            catch (DecoderFallbackException ex)
            {
                _nextLine++;
                throw new DataFormatException(File, number, 0, $"bytes that are not valid {_encoding.WebName} ({ex.Message})", ex);
            }
        }
        int n = 0, limit = _options?.MaxLineBytes ?? LoadOptions.Default.MaxLineBytes;
        bool any = false, tooLong = false;
        while (true)
        {
            if (_pos == _len)
            {
                _len = _bytes!.Read(_buffer, 0, _buffer.Length);
                _pos = 0;
                if (_len == 0) break;
            }
            any = true;
            int nl = Array.IndexOf(_buffer, (byte)'\n', _pos, _len - _pos);
            int take = (nl < 0 ? _len : nl) - _pos;
            if (tooLong || n + take > limit)
            {
                // Past the limit: the rest of the line is read and dropped, never held.
                tooLong = true;
                if (nl >= 0)
                {
                    _pos = nl + 1;
                    _nextLine = number + 1;
                    throw new DataFormatException(File, number, 0, $"the line is longer than {limit:N0} bytes (LoadOptions.MaxLineBytes)");
                }
                _pos = _len;
                continue;
            }
            if (n + take > _line.Length) Array.Resize(ref _line, Math.Max(_line.Length * 2, n + take));
            Buffer.BlockCopy(_buffer, _pos, _line, n, take);
            n += take;
            if (nl >= 0)
            {
                _pos = nl + 1;
                return Decode(n, number);
            }
            _pos = _len;
        }
        if (tooLong)
        {
            _nextLine = number + 1;
            throw new DataFormatException(File, number, 0, $"the line is longer than {limit:N0} bytes (LoadOptions.MaxLineBytes)");
        }
        return any ? Decode(n, number) : null;
    }

    private string Decode(int n, long number)
    {
        _nextLine = number + 1;
        if (n > 0 && _line[n - 1] == (byte)'\r') n--;
        try
        {
            return _encoding.GetString(_line, 0, n);
        }
        catch (DecoderFallbackException ex)
        {
            int at = ex.Index >= 0 ? ex.Index : 0;
            throw new DataFormatException(File, number, 0, $"bytes that are not valid {_encoding.WebName} at byte {at + 1} of the line (0x{Convert.ToHexString(ex.BytesUnknown ?? [])})", ex);
        }
    }

    /// <summary>A copy of <paramref name="encoding"/> that throws on undecodable bytes.</summary>
    private static Encoding Strict(Encoding encoding) =>
        encoding.DecoderFallback is DecoderExceptionFallback ? encoding
        : encoding is UTF8Encoding ? StrictUtf8
        : Encoding.GetEncoding(encoding.CodePage, EncoderFallback.ExceptionFallback, DecoderFallback.ExceptionFallback);

    /// <summary>The length of a byte-order mark that agrees with <paramref name="encoding"/> (0 when there is none).</summary>
    private static int CheckByteOrderMark(Stream stream, string path, Encoding encoding)
    {
        Span<byte> head = stackalloc byte[4];
        int got = stream.ReadAtLeast(head, 4, throwOnEndOfStream: false);
        head = head[..got];
        (string Name, int Length, int CodePage)? mark =
            head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE, 0, 0]) ? ("UTF-32 LE", 4, 12000)
            : head.StartsWith((ReadOnlySpan<byte>)[0, 0, 0xFE, 0xFF]) ? ("UTF-32 BE", 4, 12001)
            : head.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? ("UTF-8", 3, 65001)
            : head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) ? ("UTF-16 LE", 2, 1200)
            : head.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]) ? ("UTF-16 BE", 2, 1201)
            : null;
        if (mark is null) return 0;
        if (mark.Value.CodePage == encoding.CodePage) return mark.Value.Length;
        throw new DataFormatException(path, 1, 0,
            $"the file starts with a {mark.Value.Name} byte-order mark but is declared {encoding.WebName}; declare its real encoding or remove the mark");
    }

    private string[] Split(string line)
    {
        if (!_quoting || line.IndexOf('"') < 0) return line.Split(_delimiter);
        var result = new List<string>();
        var field = new StringBuilder();
        int i = 0;
        while (true)
        {
            if (i < line.Length && line[i] == '"')
            {
                i++;
                while (true)
                {
                    if (i >= line.Length)
                    {
                        // A quoted field continues on the next physical line.
                        string? next = ReadPhysicalLine();
                        if (next is null) throw new DataFormatException(File, Line, result.Count + 1, "unterminated quoted field");
                        field.Append('\n');
                        line = next;
                        i = 0;
                        continue;
                    }
                    if (line[i] == '"')
                    {
                        if (i + 1 < line.Length && line[i + 1] == '"') { field.Append('"'); i += 2; continue; }
                        i++;
                        break;
                    }
                    field.Append(line[i++]);
                }
                if (i < line.Length && line[i] != _delimiter)
                {
                    throw new DataFormatException(File, Line, result.Count + 1, $"unexpected character '{line[i]}' after a closing quote");
                }
            }
            else
            {
                while (i < line.Length && line[i] != _delimiter) field.Append(line[i++]);
            }
            result.Add(field.ToString());
            field.Clear();
            if (i >= line.Length) break;
            i++; // skip the delimiter
            if (i == line.Length) { result.Add(""); break; }
        }
        return result.ToArray();
    }

    /// <summary>Closes the file.</summary>
    public void Dispose()
    {
        _bytes?.Dispose();
        _text?.Dispose();
    }
}

/// <summary>Field parsing with errors that point at file, line and column.</summary>
internal static class Fields
{
    public static bool Count(DelimitedReader r, string[] f, int expected, LoadOptions o)
    {
        if (f.Length == expected) return true;
        o.Fail(new DataFormatException(r.File, r.Line, 0, $"expected {expected} fields, found {f.Length}"));
        return false;
    }

    public static bool Int(DelimitedReader r, string[] f, int column, LoadOptions o, out int value)
    {
        if (int.TryParse(f[column], System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out value)) return true;
        o.Fail(new DataFormatException(r.File, r.Line, column + 1, $"{DataFormatException.Quote(f[column])} is not an integer"));
        return false;
    }

    public static bool Long(DelimitedReader r, string[] f, int column, LoadOptions o, out long value)
    {
        if (long.TryParse(f[column], System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out value)) return true;
        o.Fail(new DataFormatException(r.File, r.Line, column + 1, $"{DataFormatException.Quote(f[column])} is not an integer"));
        return false;
    }

    public static bool Float(DelimitedReader r, string[] f, int column, LoadOptions o, out float value)
    {
        if (float.TryParse(f[column], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out value) && float.IsFinite(value)) return true;
        o.Fail(new DataFormatException(r.File, r.Line, column + 1, $"{DataFormatException.Quote(f[column])} is not a finite number"));
        return false;
    }
}

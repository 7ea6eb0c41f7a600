using System.Text;

namespace HierRec.Data;

/// <summary>
/// Reads delimited text (CSV, TSV, '|'-separated) record by record with line numbers: optional double-quote quoting
/// (quoted fields may hold the delimiter, doubled quotes and line breaks), CRLF or LF line ends, any encoding.
/// </summary>
public sealed class DelimitedReader : IDisposable
{
    private readonly TextReader _reader;
    private readonly char _delimiter;
    private readonly bool _quoting;
    private long _nextLine = 1;

    /// <summary>Opens <paramref name="path"/> with <paramref name="encoding"/> (default UTF-8, invalid bytes an error).</summary>
    /// <exception cref="DataFormatException">The file does not exist.</exception>
    public DelimitedReader(string path, char delimiter, Encoding? encoding = null, bool quoting = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!System.IO.File.Exists(path)) throw new DataFormatException(path, 0, 0, "file not found");
        File = path;
        _reader = new StreamReader(path, encoding ?? StrictUtf8, detectEncodingFromByteOrderMarks: true);
        _delimiter = delimiter;
        _quoting = quoting;
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
    /// <exception cref="DataFormatException">Undecodable bytes or an unterminated quoted field.</exception>
    public bool Read(out string[] fields)
    {
        while (true)
        {
            string? line;
            try
            {
                line = _reader.ReadLine();
            }
            catch (DecoderFallbackException ex)
            {
                throw new DataFormatException(File, _nextLine, 0, $"bytes that are not valid in the file's encoding ({ex.Message})", ex);
            }
            if (line is null)
            {
                fields = [];
                return false;
            }
            Line = _nextLine++;
            if (line.Length == 0) continue;
            fields = Split(line);
            return true;
        }
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
                        string? next = _reader.ReadLine();
                        if (next is null) throw new DataFormatException(File, Line, result.Count + 1, "unterminated quoted field");
                        _nextLine++;
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
    public void Dispose() => _reader.Dispose();
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
        o.Fail(new DataFormatException(r.File, r.Line, column + 1, $"'{f[column]}' is not an integer"));
        return false;
    }

    public static bool Long(DelimitedReader r, string[] f, int column, LoadOptions o, out long value)
    {
        if (long.TryParse(f[column], System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out value)) return true;
        o.Fail(new DataFormatException(r.File, r.Line, column + 1, $"'{f[column]}' is not an integer"));
        return false;
    }

    public static bool Float(DelimitedReader r, string[] f, int column, LoadOptions o, out float value)
    {
        if (float.TryParse(f[column], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out value) && float.IsFinite(value)) return true;
        o.Fail(new DataFormatException(r.File, r.Line, column + 1, $"'{f[column]}' is not a finite number"));
        return false;
    }
}

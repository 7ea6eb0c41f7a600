using System.Data.Common;
using System.Globalization;

namespace HierRec.Data;

/// <summary>
/// A table of records the dataset loaders read: a delimited file, or a database reader. Fields are strings as a file
/// would hold them (numbers in the invariant culture, times as Unix seconds); a database NULL is a null field.
/// </summary>
internal abstract class RecordTable
{
    /// <summary>The name errors give: the file path, or the table's name.</summary>
    public abstract string Name { get; }

    /// <summary>Reads every record, with its line (file) or row number (reader), and a column-name resolver.</summary>
    public abstract List<(string?[] Fields, long Line)> ReadAll(LoadOptions options, out Func<string, int> resolve);

    public static RecordTable FromFile(DelimitedFile file) => new FileTable(file);

    public static RecordTable FromReader(string name, Func<DbDataReader> open) => new ReaderTable(name, open);

    private protected static Func<string, int> Resolver(string name, string[]? names, int width) => column =>
    {
        if (column.StartsWith('#') && int.TryParse(column.AsSpan(1), out int k) && k >= 0 && (width < 0 || k < width)) return k;
        int idx = names is null ? -1 : Array.IndexOf(names, column);
        if (idx < 0)
        {
            string known = names is null ? $"#0..#{width - 1}" : string.Join(", ", names.Take(20).Select(DataFormatException.Quote)) + (names.Length > 20 ? $", … ({names.Length} columns)" : "");
            // One column whose name holds another separator: the delimiter is wrong, not the column name.
            string hint = names is { Length: 1 } && names[0].IndexOfAny([',', ';', '\t', '|']) is int at and >= 0
                ? $"; the header is one column holding {DataFormatException.Quote(names[0][at].ToString())}: is that the file's delimiter?"
                : width == 1 && names is null ? "; every record is one field: is the delimiter right?" : "";
            throw new DataFormatException(name, 1, 0, $"no column {DataFormatException.Quote(column)} (columns: {known}){hint}");
        }
        return idx;
    };

    private sealed class FileTable(DelimitedFile file) : RecordTable
    {
        public override string Name => file.Path;

        /// <summary>Reads every record, checking the field count against the header (or the first record).</summary>
        public override List<(string?[] Fields, long Line)> ReadAll(LoadOptions options, out Func<string, int> resolve)
        {
            System.Text.Encoding encoding;
            try
            {
                encoding = DelimitedReader.ResolveEncoding(file.Encoding);
            }
            catch (ArgumentException ex)
            {
                throw new DataFormatException(file.Path, 0, 0, $"unknown encoding '{file.Encoding}'", ex);
            }
            using var r = new DelimitedReader(file.Path, file.Delimiter, encoding, file.Quoting, options);
            string[]? header = null;
            var rows = new List<(string?[], long)>();
            int width = -1;
            if (file.HasHeader)
            {
                if (!r.Read(out header)) throw new DataFormatException(file.Path, 0, 0, "the file is empty but a header was expected");
                width = header.Length;
            }
            while (r.Read(out var f))
            {
                if (width < 0) width = f.Length;
                if (f.Length != width)
                {
                    options.Fail(new DataFormatException(file.Path, r.Line, 0, $"expected {width} fields, found {f.Length}"));
                    continue;
                }
                rows.Add((f, r.Line));
            }
            resolve = Resolver(file.Path, header, width);
            return rows;
        }
    }

    private sealed class ReaderTable(string name, Func<DbDataReader> open) : RecordTable
    {
        public override string Name => name;

        public override List<(string?[] Fields, long Line)> ReadAll(LoadOptions options, out Func<string, int> resolve)
        {
            using var reader = open() ?? throw new InvalidOperationException($"{name}: the reader factory returned null.");
            int width = reader.FieldCount;
            var names = Enumerable.Range(0, width).Select(reader.GetName).ToArray();
            var rows = new List<(string?[], long)>();
            long row = 0;
            while (reader.Read())
            {
                row++;
                var fields = new string?[width];
                for (int c = 0; c < width; c++)
                {
                    object value;
                    try
                    {
                        value = reader.GetValue(c);
                    }
                    catch (Exception ex) when (ex is InvalidCastException or FormatException or OverflowException)
                    {
                        throw new DataFormatException(name, row, c + 1, $"column '{names[c]}' cannot be read: {ex.Message}", ex);
                    }
                    fields[c] = value switch
                    {
                        DBNull or null => null,
                        string s => s,
                        DateTime t => new DateTimeOffset(t.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(t, DateTimeKind.Utc) : t.ToUniversalTime()).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
                        DateTimeOffset t => t.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
                        float f => f.ToString("R", CultureInfo.InvariantCulture),
                        double d => d.ToString("R", CultureInfo.InvariantCulture),
                        string[] tags => string.Join('|', tags),
                        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                        _ => value.ToString(),
                    };
                }
                rows.Add((fields, row));
            }
            resolve = Resolver(name, names, width);
            return rows;
        }
    }
}

namespace HierRec.Data;

/// <summary>A data file that does not parse: the message names the file, the 1-based line and, where known, the column.</summary>
public sealed class DataFormatException : FormatException
{
    /// <summary>Creates the exception.</summary>
    public DataFormatException(string file, long line, int column, string problem, Exception? inner = null)
        : base($"{file}:{line}{(column > 0 ? $", column {column}" : "")}: {Cap(problem)}", inner)
    {
        File = file;
        Line = line;
        Column = column;
        Problem = Cap(problem);
    }

    /// <summary>
    /// A value from a file as a message shows it: quoted, at most 60 characters (longer values are cut, with their
    /// length), so one bad 50 MB field gives a short message.
    /// </summary>
    public static string Quote(string? value) => value is null ? "NULL"
        : value.Length <= 60 ? $"'{value}'" : $"'{value.AsSpan(0, 57)}...' ({value.Length:N0} characters)";

    private static string Cap(string problem) => problem.Length <= 400 ? problem : string.Concat(problem.AsSpan(0, 397), "...");

    /// <summary>The file.</summary>
    public string File { get; }

    /// <summary>1-based line number (0 when the problem is the file as a whole).</summary>
    public long Line { get; }

    /// <summary>1-based column (field) number, or 0.</summary>
    public int Column { get; }

    /// <summary>What is wrong, without the location.</summary>
    public string Problem { get; }
}

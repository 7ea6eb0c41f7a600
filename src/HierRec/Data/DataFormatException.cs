namespace HierRec.Data;

/// <summary>A data file that does not parse: the message names the file, the 1-based line and, where known, the column.</summary>
public sealed class DataFormatException : FormatException
{
    /// <summary>Creates the exception.</summary>
    public DataFormatException(string file, long line, int column, string problem, Exception? inner = null)
        : base($"{file}:{line}{(column > 0 ? $", column {column}" : "")}: {problem}", inner)
    {
        File = file;
        Line = line;
        Column = column;
        Problem = problem;
    }

    /// <summary>The file.</summary>
    public string File { get; }

    /// <summary>1-based line number (0 when the problem is the file as a whole).</summary>
    public long Line { get; }

    /// <summary>1-based column (field) number, or 0.</summary>
    public int Column { get; }

    /// <summary>What is wrong, without the location.</summary>
    public string Problem { get; }
}

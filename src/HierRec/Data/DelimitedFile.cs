namespace HierRec.Data;

/// <summary>Where a delimited file is and how it is written.</summary>
/// <param name="Path">The file.</param>
/// <param name="Delimiter">Field separator (',' for CSV, '\t' for TSV).</param>
/// <param name="Encoding">Encoding name ("utf-8", "latin1", "windows-1252", …).</param>
/// <param name="HasHeader">Whether the first line names the columns.</param>
/// <param name="Quoting">Whether double quotes delimit fields.</param>
public sealed record DelimitedFile(string Path, char Delimiter = ',', string Encoding = "utf-8", bool HasHeader = true, bool Quoting = true);

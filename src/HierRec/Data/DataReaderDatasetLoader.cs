using System.Data.Common;

namespace HierRec.Data;

/// <summary>
/// Loads a dataset from database readers (any ADO.NET provider: PostgreSQL through HierRec.PostgreSql, SQL Server,
/// SQLite…) with the same column mapping, validation and errors as <see cref="DelimitedDatasetLoader"/>: an error names
/// the table, the row number and the column. Each reader is opened, read to the end and disposed in turn, so all of
/// them may share one connection.
/// </summary>
/// <remarks>
/// Values are read as a file would hold them: numbers in the invariant culture, <c>timestamp</c> values as Unix
/// seconds, text arrays as tags joined by '|' (set <see cref="ItemColumns.TagSeparator"/> to '|'). A NULL id is an
/// error (or a skipped row with <see cref="LoadOptions"/> in skip mode); a NULL text or tag is empty, a NULL number NaN.
/// </remarks>
public static class DataReaderDatasetLoader
{
    /// <summary>Loads the tables; each pair is (a name for errors, a factory that executes the query and returns its reader).</summary>
    /// <exception cref="DataFormatException">A malformed row, an unknown column or an unknown id, naming table, row and column.</exception>
    public static Dataset Load(string name, (string Table, Func<DbDataReader> Open) interactions, InteractionColumns interactionColumns,
        ((string Table, Func<DbDataReader> Open) Reader, ItemColumns Columns)? items = null,
        ((string Table, Func<DbDataReader> Open) Reader, UserColumns Columns)? users = null,
        ((string Table, Func<DbDataReader> Open) Reader, EdgeColumns Columns)? edges = null, LoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(interactions.Open);
        ArgumentNullException.ThrowIfNull(interactionColumns);
        static RecordTable Table((string Table, Func<DbDataReader> Open) r) => RecordTable.FromReader(r.Table ?? "reader", r.Open ?? throw new ArgumentNullException(nameof(r)));
        return DelimitedDatasetLoader.Load(name, Table(interactions), interactionColumns,
            items is { } i ? (Table(i.Reader), i.Columns) : null, users is { } u ? (Table(u.Reader), u.Columns) : null,
            edges is { } e ? (Table(e.Reader), e.Columns) : null, options);
    }
}

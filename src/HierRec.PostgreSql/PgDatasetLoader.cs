using HierRec.Data;
using Npgsql;

namespace HierRec.PostgreSql;

/// <summary>
/// Loads a dataset from PostgreSQL tables with the column mappings, validation and errors of the file loaders
/// (<see cref="DataReaderDatasetLoader"/>): an error names the table, the row and the column. Table names are checked
/// identifiers ("schema.table" or "table"); each table is read with <c>SELECT * FROM</c> it, one after another, on one
/// connection.
/// </summary>
public static class PgDatasetLoader
{
    /// <summary>Loads the tables.</summary>
    /// <exception cref="ArgumentException">A table name is not a plain identifier.</exception>
    /// <exception cref="DataFormatException">A malformed row, an unknown column or an unknown id.</exception>
    public static Dataset Load(NpgsqlDataSource dataSource, string name, string interactionsTable, InteractionColumns interactionColumns,
        (string Table, ItemColumns Columns)? items = null, (string Table, UserColumns Columns)? users = null,
        (string Table, EdgeColumns Columns)? edges = null, LoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        PgIdentifier.CheckQualified(interactionsTable, nameof(interactionsTable));
        if (items is { } it) PgIdentifier.CheckQualified(it.Table, nameof(items));
        if (users is { } us) PgIdentifier.CheckQualified(us.Table, nameof(users));
        if (edges is { } ed) PgIdentifier.CheckQualified(ed.Table, nameof(edges));
        using var conn = dataSource.OpenConnection();
        (string, Func<System.Data.Common.DbDataReader>) Table(string table) => ("postgres:" + table, () =>
        {
            var cmd = new NpgsqlCommand($"SELECT * FROM {table}", conn);
            return cmd.ExecuteReader(System.Data.CommandBehavior.SequentialAccess);
        });
        return DataReaderDatasetLoader.Load(name, Table(interactionsTable), interactionColumns,
            items is { } i ? (Table(i.Table), i.Columns) : null, users is { } u ? (Table(u.Table), u.Columns) : null,
            edges is { } e ? (Table(e.Table), e.Columns) : null, options);
    }
}

namespace HierRec.PostgreSql;

/// <summary>Options of one candidate query.</summary>
public sealed class PgSearchOptions
{
    /// <summary>HNSW <c>ef_search</c> for this query (candidates examined); null keeps the server's (40). Higher is slower and more exact.</summary>
    public int? EfSearch { get; init; }

    /// <summary>Exact search: no index, a sequential scan over the version (for measurement and small catalogues). Default false.</summary>
    public bool Exact { get; init; }

    /// <summary>Return each candidate's stored vector (d floats per row on the wire). Default false: ids and scores only.</summary>
    public bool IncludeVectors { get; init; }

    /// <summary>Item ids never returned (for example the user's history), applied in SQL.</summary>
    public IReadOnlyCollection<string>? ExcludeItems { get; init; }

    /// <summary>Only items with at least one of these categories, applied in SQL.</summary>
    public IReadOnlyCollection<string>? AnyCategory { get; init; }
}

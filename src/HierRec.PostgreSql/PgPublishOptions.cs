namespace HierRec.PostgreSql;

/// <summary>Options of <see cref="PgItemStore.PublishAsync"/>.</summary>
public sealed class PgPublishOptions
{
    /// <summary>Column type of the vectors. Default <see cref="PgVectorStorage.Vector"/>.</summary>
    public PgVectorStorage Storage { get; init; } = PgVectorStorage.Vector;

    /// <summary>Build an HNSW index for inner product. Default true; false leaves exact (sequential) search only.</summary>
    public bool BuildIndex { get; init; } = true;

    /// <summary>HNSW <c>m</c> (links per node). Default 16, pgvector's default.</summary>
    public int HnswM { get; init; } = 16;

    /// <summary>HNSW <c>ef_construction</c>. Default 64, pgvector's default.</summary>
    public int HnswEfConstruction { get; init; } = 64;

    /// <summary>
    /// Time limit of each publishing statement (the COPY, the index build, ANALYZE). Default null: none, since an HNSW
    /// build over millions of rows takes minutes (Npgsql's 30 s default would abort it); bound a publication with the
    /// cancellation token instead.
    /// </summary>
    public TimeSpan? StatementTimeout { get; init; }

    /// <summary>Optional categories per item (same order as the ids), for category filters. Default none.</summary>
    public IReadOnlyList<IReadOnlyList<string>?>? Categories { get; init; }
}

namespace HierRec.PostgreSql;

/// <summary>
/// A candidate from the database: the item, its inner product with the query computed by pgvector over the stored
/// vector (float32 arithmetic, over half-precision values for halfvec), and the stored vector when
/// <see cref="PgSearchOptions.IncludeVectors"/> asked for it (null otherwise).
/// </summary>
public sealed record PgCandidate(string ItemId, float Score, float[]? Vector);

/// <summary>The published version readers see: HierRec's version number, the model's version label, the dimension and storage.</summary>
public sealed record PgCatalogVersion(long Version, string ModelVersion, int Dimension, PgVectorStorage Storage, DateTimeOffset PublishedAt, long Items);

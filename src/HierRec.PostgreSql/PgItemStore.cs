using System.Data;
using Npgsql;
using NpgsqlTypes;
using Pgvector;

namespace HierRec.PostgreSql;

/// <summary>
/// Item vectors in PostgreSQL with pgvector, published in versions that readers swap to atomically.
/// </summary>
/// <remarks>
/// <para>Layout, for a prefix p: <c>p_current</c> holds one row, the pointer to the published version; each version is
/// a table <c>p_v{n}</c> (item_id text primary key, categories text[], embedding vector(d) or halfvec(d)) with its HNSW
/// index for inner product. <see cref="PublishAsync"/> writes a new version with binary COPY, indexes it, then moves the
/// pointer in one transaction, so a reader sees the old version or the new one, never a mix; the version before the
/// previous one is then dropped. <see cref="UpsertAsync"/> and <see cref="DeleteAsync"/> change the current version in
/// place, each in one statement.</para>
/// <para>Every id, vector, category and setting travels as a parameter. The only text in SQL is the prefix, fixed by
/// the application and checked to be a plain identifier, and version numbers. Reads retry once (configurable) on a
/// dropped connection or a version dropped under them.</para>
/// <para>Thread-safe: the data source pools connections; any number of concurrent readers and one publisher at a time
/// (publishers serialise on an advisory lock).</para>
/// </remarks>
public sealed partial class PgItemStore
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _prefix;

    /// <summary>A store over <paramref name="dataSource"/> (built with pgvector's <c>UseVector()</c>; see <see cref="CreateDataSource"/>).</summary>
    /// <param name="dataSource">The connection pool.</param>
    /// <param name="prefix">Table-name prefix, fixed by the application: lower-case letters, digits, '_'. Default "hierrec_items".</param>
    public PgItemStore(NpgsqlDataSource dataSource, string prefix = "hierrec_items")
    {
        _dataSource = dataSource ?? throw new ArgumentNullException(nameof(dataSource));
        _prefix = PgIdentifier.Check(prefix, nameof(prefix));
    }

    /// <summary>A data source for <paramref name="connectionString"/> with pgvector's types mapped.</summary>
    public static NpgsqlDataSource CreateDataSource(string connectionString)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.UseVector();
        return builder.Build();
    }

    /// <summary>Attempts for a read after a transient failure (dropped connection, version dropped meanwhile). Default 2 (one retry).</summary>
    public int ReadAttempts { get; init; } = 2;

    /// <summary>The table prefix.</summary>
    public string Prefix => _prefix;

    private string PointerTable => _prefix + "_current";

    private string VersionTable(long version) => $"{_prefix}_v{version}";

    /// <summary>Creates the extension (if allowed), the pointer table and the version sequence when missing.</summary>
    public async Task EnsureSchemaAsync(CancellationToken cancellationToken = default)
    {
        await using var conn = await Open(cancellationToken).ConfigureAwait(false);
        await using var cmd = new NpgsqlBatch(conn)
        {
            BatchCommands =
            {
                new("CREATE EXTENSION IF NOT EXISTS vector"),
                new($"CREATE TABLE IF NOT EXISTS {PointerTable} (id int PRIMARY KEY DEFAULT 1 CHECK (id = 1), version bigint NOT NULL, model_version text NOT NULL, dimension int NOT NULL, storage text NOT NULL, published_at timestamptz NOT NULL, items bigint NOT NULL)"),
                new($"CREATE SEQUENCE IF NOT EXISTS {_prefix}_version_seq"),
            },
        };
        await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The published version, or null before the first publication.</summary>
    public Task<PgCatalogVersion?> CurrentAsync(CancellationToken cancellationToken = default) => Read("reading the current version", async conn =>
    {
        return await Current(conn, null, cancellationToken).ConfigureAwait(false);
    }, cancellationToken);

    private async Task<PgCatalogVersion?> Current(NpgsqlConnection conn, NpgsqlTransaction? tx, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand($"SELECT version, model_version, dimension, storage, published_at, items FROM {PointerTable} WHERE id = 1", conn, tx);
        try
        {
            await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            if (!await r.ReadAsync(ct).ConfigureAwait(false)) return null;
            return new PgCatalogVersion(r.GetInt64(0), r.GetString(1), r.GetInt32(2), Enum.Parse<PgVectorStorage>(r.GetString(3)), r.GetFieldValue<DateTimeOffset>(4), r.GetInt64(5));
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UndefinedTable && ex.TableName is null && ex.MessageText.Contains(PointerTable, StringComparison.Ordinal))
        {
            return null;
        }
    }

    /// <summary>
    /// Publishes a new version: the item vectors (row-major, <paramref name="itemIds"/>.Count × <paramref name="dimension"/>)
    /// are copied into a new table with binary COPY, the HNSW index is built, and the pointer moves to it in one
    /// transaction. On any failure the pointer is unchanged and the partial table is dropped.
    /// </summary>
    /// <exception cref="ArgumentException">Ids are null, empty or repeated, or the vectors have the wrong length or a non-finite value (named by index).</exception>
    /// <exception cref="PgStoreException">The database failed; the message names the step.</exception>
    public async Task<PgCatalogVersion> PublishAsync(IReadOnlyList<string> itemIds, ReadOnlyMemory<float> vectors, int dimension, string modelVersion,
        PgPublishOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new PgPublishOptions();
        ArgumentNullException.ThrowIfNull(modelVersion);
        Validate(itemIds, vectors.Span, dimension, options.Categories);
        // pgvector's ranges, checked here so the error names the option rather than arriving from the server mid-publish.
        if (options.HnswM is < 2 or > 100) throw new ArgumentOutOfRangeException(nameof(options), options.HnswM, "PgPublishOptions.HnswM must be in [2, 100].");
        if (options.HnswEfConstruction < Math.Max(4, 2 * options.HnswM) || options.HnswEfConstruction > 1000)
            throw new ArgumentOutOfRangeException(nameof(options), options.HnswEfConstruction, $"PgPublishOptions.HnswEfConstruction must be in [max(4, 2·HnswM) = {Math.Max(4, 2 * options.HnswM)}, 1000].");
        if (options.StatementTimeout is { } limit && limit <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(options), limit, "PgPublishOptions.StatementTimeout must be positive, or null for no limit.");
        int maxIndexed = options.Storage == PgVectorStorage.Vector ? 2000 : 4000;
        if (options.BuildIndex && dimension > maxIndexed)
            throw new ArgumentException($"pgvector's HNSW index takes at most {maxIndexed} dimensions for {options.Storage}; the vectors have {dimension}. Use HalfVec or BuildIndex = false.", nameof(dimension));
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        long version;
        await using (var conn = await Open(cancellationToken).ConfigureAwait(false))
        await using (var next = new NpgsqlCommand($"SELECT nextval('{_prefix}_version_seq')", conn))
            version = (long)(await next.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        string table = VersionTable(version);
        string type = options.Storage == PgVectorStorage.Vector ? "vector" : "halfvec";
        string step = "creating " + table;
        int timeout = options.StatementTimeout is { } statementLimit ? Math.Max(1, (int)Math.Ceiling(statementLimit.TotalSeconds)) : 0; // 0: no limit
        try
        {
            await using var conn = await Open(cancellationToken).ConfigureAwait(false);
            await Execute(conn, $"CREATE TABLE {table} (item_id text PRIMARY KEY, categories text[], embedding {type}({dimension}) NOT NULL)", cancellationToken).ConfigureAwait(false);
            step = "copying the vectors into " + table;
            await Copy(conn, table, itemIds, vectors, dimension, options.Storage, options.Categories, cancellationToken, timeout).ConfigureAwait(false);
            if (options.BuildIndex)
            {
                step = "building the HNSW index on " + table;
                await Execute(conn, $"CREATE INDEX ON {table} USING hnsw (embedding {type}_ip_ops) WITH (m = {options.HnswM}, ef_construction = {options.HnswEfConstruction})", cancellationToken, timeoutSeconds: timeout).ConfigureAwait(false);
            }
            step = "analysing " + table;
            await Execute(conn, $"ANALYZE {table}", cancellationToken, timeoutSeconds: timeout).ConfigureAwait(false);
            step = "moving the pointer to " + table;
            long? previous;
            await using (var tx = await conn.BeginTransactionAsync(cancellationToken).ConfigureAwait(false))
            {
                await using (var lockCmd = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtext(@p))", conn, tx) { Parameters = { new("p", _prefix) } })
                    await lockCmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                previous = (await Current(conn, tx, cancellationToken).ConfigureAwait(false))?.Version;
                await using var swap = new NpgsqlCommand($"""
                    INSERT INTO {PointerTable} (id, version, model_version, dimension, storage, published_at, items)
                    VALUES (1, @v, @m, @d, @s, now(), @n)
                    ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, model_version = EXCLUDED.model_version, dimension = EXCLUDED.dimension,
                        storage = EXCLUDED.storage, published_at = EXCLUDED.published_at, items = EXCLUDED.items
                    """, conn, tx)
                {
                    Parameters = { new("v", version), new("m", modelVersion), new("d", dimension), new("s", options.Storage.ToString()), new("n", (long)itemIds.Count) },
                };
                await swap.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
            step = "dropping versions older than the previous one";
            // Readers that read the pointer just before the swap may still query the previous version: it stays.
            await DropOlderThan(conn, previous ?? version, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or InvalidCastException && !cancellationToken.IsCancellationRequested)
        {
            await TryDrop(table).ConfigureAwait(false);
            throw new PgStoreException($"Publishing version {version} of '{_prefix}' failed while {step}: {ex.Message}. The published version is unchanged.", ex);
        }
        catch (OperationCanceledException)
        {
            await TryDrop(table).ConfigureAwait(false);
            throw;
        }
        return (await CurrentAsync(cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>Inserts or replaces items of the current version (one statement: readers see all of the change or none).</summary>
    /// <exception cref="InvalidOperationException">Nothing is published yet, or the dimension differs from the published one.</exception>
    public async Task UpsertAsync(IReadOnlyList<string> itemIds, ReadOnlyMemory<float> vectors, int dimension,
        IReadOnlyList<IReadOnlyList<string>?>? categories = null, CancellationToken cancellationToken = default)
    {
        Validate(itemIds, vectors.Span, dimension, categories);
        await using var conn = await Open(cancellationToken).ConfigureAwait(false);
        await using var tx = await conn.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var current = await Current(conn, tx, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"'{_prefix}' has no published version to upsert into; call PublishAsync first.");
        if (current.Dimension != dimension) throw new InvalidOperationException($"The published version has dimension {current.Dimension}; the upserted vectors have {dimension}.");
        string type = current.Storage == PgVectorStorage.Vector ? "vector" : "halfvec";
        await Execute(conn, $"CREATE TEMP TABLE hierrec_upsert (item_id text, categories text[], embedding {type}({dimension})) ON COMMIT DROP", cancellationToken, tx).ConfigureAwait(false);
        await Copy(conn, "hierrec_upsert", itemIds, vectors, dimension, current.Storage, categories, cancellationToken).ConfigureAwait(false);
        await Execute(conn, $"""
            INSERT INTO {VersionTable(current.Version)} (item_id, categories, embedding) SELECT item_id, categories, embedding FROM hierrec_upsert
            ON CONFLICT (item_id) DO UPDATE SET categories = EXCLUDED.categories, embedding = EXCLUDED.embedding
            """, cancellationToken, tx).ConfigureAwait(false);
        await Execute(conn, $"UPDATE {PointerTable} SET items = (SELECT count(*) FROM {VersionTable(current.Version)}) WHERE id = 1", cancellationToken, tx).ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Removes items from the current version (one statement). Returns how many were removed.</summary>
    public async Task<int> DeleteAsync(IReadOnlyCollection<string> itemIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(itemIds);
        await using var conn = await Open(cancellationToken).ConfigureAwait(false);
        await using var tx = await conn.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var current = await Current(conn, tx, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"'{_prefix}' has no published version.");
        await using var cmd = new NpgsqlCommand($"DELETE FROM {VersionTable(current.Version)} WHERE item_id = ANY(@ids)", conn, tx) { Parameters = { new("ids", itemIds.ToArray()) } };
        int removed = await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await Execute(conn, $"UPDATE {PointerTable} SET items = items - {removed} WHERE id = 1", cancellationToken, tx).ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return removed;
    }

    /// <summary>Bytes on disk of the current version (table, TOAST and indexes).</summary>
    public Task<long> StorageBytesAsync(CancellationToken cancellationToken = default) => Read("measuring storage", async conn =>
    {
        var current = await Current(conn, null, cancellationToken).ConfigureAwait(false) ?? throw new InvalidOperationException($"'{_prefix}' has no published version.");
        await using var cmd = new NpgsqlCommand("SELECT pg_total_relation_size(@t::regclass)", conn) { Parameters = { new("t", VersionTable(current.Version)) } };
        return (long)(await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }, cancellationToken);

    private static void Validate(IReadOnlyList<string> itemIds, ReadOnlySpan<float> vectors, int dimension, IReadOnlyList<IReadOnlyList<string>?>? categories)
    {
        ArgumentNullException.ThrowIfNull(itemIds);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        if (itemIds.Count == 0) throw new ArgumentException("No items to write.", nameof(itemIds));
        if (vectors.Length != (long)itemIds.Count * dimension)
            throw new ArgumentException($"{itemIds.Count} items × {dimension} dimensions need {(long)itemIds.Count * dimension} values; the vectors have {vectors.Length}.", nameof(vectors));
        if (categories is not null && categories.Count != itemIds.Count)
            throw new ArgumentException($"categories has {categories.Count} entries for {itemIds.Count} items.", nameof(categories));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < itemIds.Count; i++)
        {
            if (itemIds[i] is null) throw new ArgumentException($"itemIds[{i}] is null.", nameof(itemIds));
            if (!seen.Add(itemIds[i])) throw new ArgumentException($"itemIds[{i}] '{itemIds[i]}' repeats an earlier id.", nameof(itemIds));
        }
        for (int j = 0; j < vectors.Length; j++)
            if (!float.IsFinite(vectors[j])) throw new ArgumentException($"The vector of itemIds[{j / dimension}] has a non-finite value at {j % dimension}.", nameof(vectors));
    }

    private static async Task Copy(NpgsqlConnection conn, string table, IReadOnlyList<string> ids, ReadOnlyMemory<float> vectors, int dimension, PgVectorStorage storage,
        IReadOnlyList<IReadOnlyList<string>?>? categories, CancellationToken ct, int timeoutSeconds = 0)
    {
        await using var writer = await conn.BeginBinaryImportAsync($"COPY {table} (item_id, categories, embedding) FROM STDIN (FORMAT BINARY)", ct).ConfigureAwait(false);
        writer.Timeout = timeoutSeconds == 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(timeoutSeconds);
        for (int i = 0; i < ids.Count; i++)
        {
            await writer.StartRowAsync(ct).ConfigureAwait(false);
            await writer.WriteAsync(ids[i], NpgsqlDbType.Text, ct).ConfigureAwait(false);
            if (categories?[i] is { } c) await writer.WriteAsync(c.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text, ct).ConfigureAwait(false);
            else await writer.WriteNullAsync(ct).ConfigureAwait(false);
            var row = vectors.Slice(i * dimension, dimension);
            if (storage == PgVectorStorage.Vector) await writer.WriteAsync(new Vector(row), ct).ConfigureAwait(false);
            else await writer.WriteAsync(new HalfVector(ToHalf(row.Span)), ct).ConfigureAwait(false);
        }
        await writer.CompleteAsync(ct).ConfigureAwait(false);
    }

    private static Half[] ToHalf(ReadOnlySpan<float> row)
    {
        var h = new Half[row.Length];
        for (int j = 0; j < h.Length; j++) h[j] = (Half)row[j];
        return h;
    }

    private async Task DropOlderThan(NpgsqlConnection conn, long keep, CancellationToken ct)
    {
        var old = new List<long>();
        await using (var cmd = new NpgsqlCommand("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE @pattern", conn) { Parameters = { new("pattern", _prefix.Replace("_", "\\_") + "\\_v%") } })
        await using (var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
            while (await r.ReadAsync(ct).ConfigureAwait(false))
                if (long.TryParse(r.GetString(0).AsSpan(_prefix.Length + 2), out long v) && v < keep) old.Add(v);
        var current = (await Current(conn, null, ct).ConfigureAwait(false))?.Version;
        foreach (long v in old)
            if (v != current) await Execute(conn, $"DROP TABLE IF EXISTS {VersionTable(v)}", ct).ConfigureAwait(false);
    }

    private async Task TryDrop(string table)
    {
        try
        {
            await using var conn = await _dataSource.OpenConnectionAsync().ConfigureAwait(false);
            await Execute(conn, $"DROP TABLE IF EXISTS {table}", CancellationToken.None).ConfigureAwait(false);
        }
        catch (NpgsqlException)
        {
            // Best effort: an orphan version table is dropped by the next successful publication.
        }
    }

    private static async Task Execute(NpgsqlConnection conn, string sql, CancellationToken ct, NpgsqlTransaction? tx = null, int? timeoutSeconds = null)
    {
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        if (timeoutSeconds is int seconds) cmd.CommandTimeout = seconds;
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private async Task<NpgsqlConnection> Open(CancellationToken ct)
    {
        try
        {
            return await _dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        }
        catch (NpgsqlException ex)
        {
            throw new PgStoreException($"Cannot connect to PostgreSQL for '{_prefix}': {ex.Message}", ex);
        }
    }

    /// <summary>Runs a read, retrying on a dropped connection or on a version dropped under it.</summary>
    private async Task<T> Read<T>(string what, Func<NpgsqlConnection, Task<T>> body, CancellationToken ct)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await using var conn = await Open(ct).ConfigureAwait(false);
                return await body(conn).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsTransient(ex) && !ct.IsCancellationRequested)
            {
                if (attempt >= Math.Max(1, ReadAttempts))
                    throw new PgStoreException($"PostgreSQL failed while {what} on '{_prefix}' ({attempt} attempt{(attempt == 1 ? "" : "s")}): {ex.Message}", ex);
            }
        }
    }

    private static bool IsTransient(Exception ex) => ex switch
    {
        PostgresException pg => pg.SqlState is PostgresErrorCodes.UndefinedTable or PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown
            or PostgresErrorCodes.CannotConnectNow || pg.SqlState.StartsWith("08", StringComparison.Ordinal) || pg.IsTransient,
        NpgsqlException n => n.IsTransient || n.InnerException is IOException or System.Net.Sockets.SocketException || n.Message.Contains("connection", StringComparison.OrdinalIgnoreCase),
        PgStoreException { InnerException: { } inner } => IsTransient(inner),
        IOException => true,
        _ => false,
    };
}

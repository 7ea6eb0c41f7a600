using System.Text;
using Npgsql;
using Pgvector;

namespace HierRec.PostgreSql;

// Candidate generation in the database: ORDER BY embedding <#> query LIMIT n, with ef_search, filters and exact mode.
public sealed partial class PgItemStore
{
    /// <summary>
    /// The <paramref name="n"/> items of the published version with the largest inner product with
    /// <paramref name="query"/>, best first, through the HNSW index (approximate; <see cref="PgSearchOptions.EfSearch"/>
    /// trades speed for recall) or exactly (<see cref="PgSearchOptions.Exact"/>). Exclusions and categories are SQL
    /// predicates; with a filter, pgvector 0.8's iterative index scan keeps scanning until n items pass it.
    /// </summary>
    /// <exception cref="ArgumentException">The query's length differs from the published dimension, or has a non-finite value.</exception>
    /// <exception cref="PgStoreException">The database failed after the retries, or nothing is published.</exception>
    public Task<IReadOnlyList<PgCandidate>> SearchAsync(ReadOnlyMemory<float> query, int n, PgSearchOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        options ??= new PgSearchOptions();
        foreach (float v in query.Span)
            if (!float.IsFinite(v)) throw new ArgumentException("The query has a non-finite value.", nameof(query));
        if (options.EfSearch is int ef) ArgumentOutOfRangeException.ThrowIfLessThan(ef, 1, nameof(PgSearchOptions.EfSearch));
        return Read("searching", async conn =>
        {
            await using var tx = await conn.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            var current = await Current(conn, tx, cancellationToken).ConfigureAwait(false)
                ?? throw new PgStoreException($"'{_prefix}' has no published version to search.");
            if (query.Length != current.Dimension)
                throw new ArgumentException($"The query has {query.Length} dimensions; the published version {current.Version} has {current.Dimension}.", nameof(query));
            bool filtered = options.ExcludeItems is { Count: > 0 } || options.AnyCategory is not null;
            var batch = new NpgsqlBatch(conn, tx);
            await using (batch)
            {
                if (options.EfSearch is int efSearch)
                    batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT set_config('hnsw.ef_search', @ef, true)") { Parameters = { new("ef", efSearch.ToString(System.Globalization.CultureInfo.InvariantCulture)) } });
                if (filtered) batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true)"));
                if (options.Exact) batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT set_config('enable_indexscan', 'off', true)"));
                // The score is computed by the server (<#> is the negated inner product); vectors travel only when asked for.
                var sql = new StringBuilder($"SELECT item_id, -(embedding <#> @q)::real{(options.IncludeVectors ? ", embedding" : "")} FROM {VersionTable(current.Version)}");
                var search = new NpgsqlBatchCommand();
                object q = current.Storage == PgVectorStorage.Vector ? new Vector(query) : new HalfVector(ToHalf(query.Span));
                search.Parameters.Add(new NpgsqlParameter { ParameterName = "q", Value = q });
                search.Parameters.Add(new NpgsqlParameter("n", n));
                string where = " WHERE ";
                if (options.ExcludeItems is { Count: > 0 } excluded)
                {
                    sql.Append(where).Append("item_id <> ALL(@exclude)");
                    search.Parameters.Add(new NpgsqlParameter("exclude", excluded.ToArray()));
                    where = " AND ";
                }
                if (options.AnyCategory is { } categories)
                {
                    sql.Append(where).Append("categories && @categories");
                    search.Parameters.Add(new NpgsqlParameter("categories", categories.ToArray()));
                }
                sql.Append(" ORDER BY embedding <#> @q LIMIT @n");
                search.CommandText = sql.ToString();
                batch.BatchCommands.Add(search);
                var result = new List<PgCandidate>(n);
                await using (var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
                {
                    for (int skip = 0; skip < batch.BatchCommands.Count - 1; skip++) await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        float[]? vector = !options.IncludeVectors ? null
                            : current.Storage == PgVectorStorage.Vector ? reader.GetFieldValue<Vector>(2).ToArray()
                            : Array.ConvertAll(reader.GetFieldValue<HalfVector>(2).ToArray(), h => (float)h);
                        result.Add(new PgCandidate(reader.GetString(0), reader.GetFloat(1), vector));
                    }
                }
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
                // relaxed_order may return rows slightly out of order: the stored scores decide.
                if (filtered) result.Sort((a, b) => b.Score.CompareTo(a.Score));
                return (IReadOnlyList<PgCandidate>)result;
            }
        }, cancellationToken);
    }
}

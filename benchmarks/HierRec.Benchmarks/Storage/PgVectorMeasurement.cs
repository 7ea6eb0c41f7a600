using System.Diagnostics;
using System.Globalization;
using HierRec.PostgreSql;
using HierRec.Ranking;

namespace HierRec.Benchmarks.Storage;

/// <summary>
/// <c>-- pgvector [sizes] [queries]</c> (server in <c>HIERREC_PG</c>): the exact-versus-database trade-off of issue 18,
/// side by side in one run. For each catalogue size at d = 64: HierRec's in-process <see cref="ItemIndex"/> (float32 exact
/// and int8 with float32 re-ranking), pgvector exact (sequential scan) and pgvector HNSW (m 16, ef_construction 64) at
/// several ef_search values, each with 1 client and with 8 concurrent clients: recall@100 against the exact float32 top
/// 100, p50 and p99 latency per query, queries per second, build time and storage.
/// </summary>
/// <remarks>
/// The catalogue is a seeded mixture of 1,000 Gaussian clusters (centres N(0, 1), items centre + N(0, 0.6²) per
/// component): learned item embeddings are clustered, and uniform noise is the worst case for any graph index (one
/// uniform row is printed for contrast). Queries come from the same mixture. Client and server share the machine's
/// cores, as a service and its database replica would not: the 8-client figures are a floor for the database.
/// </remarks>
public static class PgVectorMeasurement
{
    private const int D = 64, K = 100;
    private static readonly int[] EfSearch = [100, 200, 400, 800];

    public static async Task Run(TextWriter output, string connectionString, IReadOnlyList<int> sizes, int queryCount)
    {
        await using var dataSource = PgItemStore.CreateDataSource(connectionString + ";Maximum Pool Size=32;Include Error Detail=true");
        output.WriteLine("| n | method | build s | storage MB | clients | recall@100 | p50 ms | p99 ms | QPS |");
        output.WriteLine("|---:|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (int n in sizes)
        {
            await Catalogue(output, dataSource, n, Clustered(n, D, 1000, seed: 1), Clustered(queryCount, D, 1000, seed: 2, centreSeed: 1), "clustered", full: true);
        }
        if (sizes.Count > 0)
        {
            int n = sizes[0];
            await Catalogue(output, dataSource, n, HierRec.Benchmarks.Ranking.Catalogue.Make(n, D, 1), HierRec.Benchmarks.Ranking.Catalogue.Make(queryCount, D, 2), "uniform", full: false);
        }
    }

    private static async Task Catalogue(TextWriter output, Npgsql.NpgsqlDataSource dataSource, int n, float[] items, float[] queryValues, string kind, bool full)
    {
        var queries = Enumerable.Range(0, queryValues.Length / D).Select(q => queryValues.AsSpan(q * D, D).ToArray()).ToArray();
        var ids = Enumerable.Range(0, n).Select(i => "i" + i.ToString(CultureInfo.InvariantCulture)).ToArray();
        string label = $"{n:N0} {kind}";

        var sw = Stopwatch.StartNew();
        using var f32 = ItemIndex.Create(items, n, D);
        double f32Build = sw.Elapsed.TotalSeconds;
        var truth = queries.Select(q => f32.Rank(q, K).Select(r => r.ItemIndex).ToHashSet()).ToArray();

        if (full)
        {
            var oneThread = new RankOptions { Threads = 1 };
            await Report(output, label, "ItemIndex float32 (exact)", f32Build, f32.ScanBytes, queries, truth, q => Task.FromResult(f32.Rank(q, K).Select(r => r.ItemIndex)),
                q => Task.FromResult(f32.Rank(q, K, oneThread).Select(r => r.ItemIndex)));
            sw.Restart();
            using var i8 = ItemIndex.Create(items, n, D, VectorPrecision.Int8);
            double i8Build = sw.Elapsed.TotalSeconds;
            await Report(output, label, "ItemIndex int8 + float32 re-rank", i8Build, i8.ScanBytes, queries, truth, q => Task.FromResult(i8.Rank(q, K).Select(r => r.ItemIndex)),
                q => Task.FromResult(i8.Rank(q, K, oneThread).Select(r => r.ItemIndex)));

            var flat = new PgItemStore(dataSource, $"bench_flat_{n}");
            sw.Restart();
            await flat.PublishAsync(ids, items, D, "bench", new PgPublishOptions { BuildIndex = false });
            double flatBuild = sw.Elapsed.TotalSeconds;
            var exact = new PgSearchOptions { Exact = true };
            var flatQueries = n >= 1_000_000 ? queries.Take(Math.Min(queries.Length, 80)).ToArray() : queries;
            await Report(output, label, "pgvector exact (no index)", flatBuild, await flat.StorageBytesAsync(), flatQueries, truth,
                q => Search(flat, q, exact), q => Search(flat, q, exact));
            await Drop(dataSource, flat.Prefix);
        }

        foreach (var storage in full ? new[] { PgVectorStorage.Vector, PgVectorStorage.HalfVec } : [PgVectorStorage.Vector])
        {
            var hnsw = new PgItemStore(dataSource, $"bench_hnsw_{storage.ToString().ToLowerInvariant()}_{n}");
            sw.Restart();
            await hnsw.PublishAsync(ids, items, D, "bench", new PgPublishOptions { Storage = storage });
            double hnswBuild = sw.Elapsed.TotalSeconds;
            long bytes = await hnsw.StorageBytesAsync();
            foreach (int ef in storage == PgVectorStorage.Vector && full ? EfSearch : [200])
            {
                var options = new PgSearchOptions { EfSearch = ef };
                await Report(output, label, $"pgvector HNSW {(storage == PgVectorStorage.Vector ? "vector" : "halfvec")} ef_search {ef}", hnswBuild, bytes, queries, truth,
                    q => Search(hnsw, q, options), q => Search(hnsw, q, options));
            }
            await Drop(dataSource, hnsw.Prefix);
        }
    }

    private static async Task<IEnumerable<int>> Search(PgItemStore store, float[] query, PgSearchOptions options) =>
        (await store.SearchAsync(query, K, options)).Select(c => int.Parse(c.ItemId.AsSpan(1), CultureInfo.InvariantCulture));

    /// <summary>One row per client count: 1 client runs every query in turn; 8 clients share them, each taking every 8th.</summary>
    private static async Task Report(TextWriter output, string label, string method, double buildSeconds, long bytes, float[][] queries, HashSet<int>[] truth,
        Func<float[], Task<IEnumerable<int>>> single, Func<float[], Task<IEnumerable<int>>> concurrent)
    {
        foreach (int clients in new[] { 1, 8 })
        {
            var search = clients == 1 ? single : concurrent;
            for (int w = 0; w < Math.Min(10, queries.Length); w++) await search(queries[w]);
            var latencies = new double[queries.Length];
            long hits = 0;
            var wall = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
            {
                for (int q = c; q < queries.Length; q += clients)
                {
                    long start = Stopwatch.GetTimestamp();
                    var found = await search(queries[q]);
                    latencies[q] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                    Interlocked.Add(ref hits, found.Count(truth[q].Contains));
                }
            })));
            double seconds = wall.Elapsed.TotalSeconds;
            Array.Sort(latencies);
            double recall = hits / (double)(K * queries.Length);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {label} | {method} | {buildSeconds:F2} | {bytes / 1e6:F0} | {clients} | {recall:F4} | {Percentile(latencies, 0.50):F2} | {Percentile(latencies, 0.99):F2} | {queries.Length / seconds:F0} |"));
            output.Flush();
        }
    }

    private static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    private static async Task Drop(Npgsql.NpgsqlDataSource dataSource, string prefix)
    {
        await using var conn = await dataSource.OpenConnectionAsync();
        var tables = new List<string>();
        await using (var list = new Npgsql.NpgsqlCommand("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE @p", conn) { Parameters = { new("p", prefix + "\\_%") } })
        await using (var r = await list.ExecuteReaderAsync())
            while (await r.ReadAsync()) tables.Add(r.GetString(0));
        foreach (var t in tables)
            await using (var drop = new Npgsql.NpgsqlCommand($"DROP TABLE {t}", conn)) await drop.ExecuteNonQueryAsync();
        await using (var seq = new Npgsql.NpgsqlCommand($"DROP SEQUENCE IF EXISTS {prefix}_version_seq", conn)) await seq.ExecuteNonQueryAsync();
    }

    /// <summary>n points of a mixture of <paramref name="clusters"/> Gaussians: centres N(0, 1) (from <paramref name="centreSeed"/>), spread 0.6.</summary>
    private static float[] Clustered(int n, int d, int clusters, ulong seed, ulong? centreSeed = null)
    {
        var centres = new float[clusters * d];
        new Rng(centreSeed ?? seed).FillNormal(centres, 0, 1);
        var rng = new Rng(seed * 7919 + 13);
        var points = new float[(long)n * d];
        for (int i = 0; i < n; i++)
        {
            int c = rng.NextInt(clusters);
            for (int j = 0; j < d; j++) points[(long)i * d + j] = centres[c * d + j] + 0.6f * rng.NextNormal();
        }
        return points;
    }
}

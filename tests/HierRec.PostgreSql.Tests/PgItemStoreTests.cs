using System.Numerics.Tensors;
using Npgsql;

namespace HierRec.PostgreSql.Tests;

public class PgItemStoreTests
{
    private static (string[] Ids, float[] Vectors) Catalogue(int n, int d, int seed) =>
        (Enumerable.Range(0, n).Select(i => $"item-{i}").ToArray(), PgServer.Random(n, d, seed));

    private static string[] BruteForce(string[] ids, float[] vectors, int d, float[] query, int k) =>
        Enumerable.Range(0, ids.Length).OrderByDescending(i => TensorPrimitives.Dot(vectors.AsSpan(i * d, d), query)).Take(k).Select(i => ids[i]).ToArray();

    [PgFact]
    public async Task Vectors_RoundTrip_InFloat32AndHalfvec_AndExactSearchMatchesBruteForce()
    {
        await using var ds = PgServer.DataSource();
        const int d = 16;
        var (ids, vectors) = Catalogue(400, d, 1);
        var query = PgServer.Random(1, d, 99);
        foreach (var storage in new[] { PgVectorStorage.Vector, PgVectorStorage.HalfVec })
        {
            var store = new PgItemStore(ds, PgServer.Prefix());
            var version = await store.PublishAsync(ids, vectors, d, "model-1", new PgPublishOptions { Storage = storage });
            Assert.Equal(400, version.Items);
            Assert.Equal(storage, version.Storage);
            var exact = await store.SearchAsync(query, 400, new PgSearchOptions { Exact = true, IncludeVectors = true });
            Assert.Equal(400, exact.Count);
            foreach (var c in exact)
            {
                int i = int.Parse(c.ItemId["item-".Length..]);
                var original = vectors.AsSpan(i * d, d).ToArray();
                Assert.NotNull(c.Vector);
                if (storage == PgVectorStorage.Vector) Assert.Equal(original, c.Vector);
                else for (int j = 0; j < d; j++) Assert.Equal(original[j], c.Vector[j], 2e-3f);
                // The server's score is the inner product of the query (as stored: halfvec rounds it too) with the stored vector.
                var sent = storage == PgVectorStorage.Vector ? query : query.Select(v => (float)(Half)v).ToArray();
                Assert.Equal(System.Numerics.Tensors.TensorPrimitives.Dot(c.Vector, sent), c.Score, 1e-4f);
            }
            if (storage == PgVectorStorage.Vector) Assert.Equal(BruteForce(ids, vectors, d, query, 20), exact.Take(20).Select(c => c.ItemId));
            var approximate = await store.SearchAsync(query, 20, new PgSearchOptions { EfSearch = 200 });
            Assert.True(approximate.Select(c => c.ItemId).Intersect(exact.Take(20).Select(c => c.ItemId)).Count() >= 18, "HNSW at ef_search 200 should find most of the exact top 20");
            var exactScore = exact.ToDictionary(c => c.ItemId, c => c.Score);
            Assert.All(approximate, c => Assert.Null(c.Vector));
            Assert.All(approximate, c => Assert.Equal(exactScore[c.ItemId], c.Score));
        }
    }

    [PgFact]
    public async Task Filters_ExcludeItems_AndKeepOnlyTheCategories_InSql()
    {
        await using var ds = PgServer.DataSource();
        const int d = 8;
        var (ids, vectors) = Catalogue(300, d, 2);
        var categories = ids.Select((_, i) => (IReadOnlyList<string>?)(i % 3 == 0 ? ["drama"] : i % 3 == 1 ? ["comedy", "drama"] : null)).ToArray();
        var store = new PgItemStore(ds, PgServer.Prefix());
        await store.PublishAsync(ids, vectors, d, "m", new PgPublishOptions { Categories = categories });
        var query = PgServer.Random(1, d, 5);
        var top = await store.SearchAsync(query, 10, new PgSearchOptions { Exact = true });
        var excluded = top.Take(5).Select(c => c.ItemId).ToArray();
        var rest = await store.SearchAsync(query, 10, new PgSearchOptions { EfSearch = 100, ExcludeItems = excluded });
        Assert.Empty(rest.Select(c => c.ItemId).Intersect(excluded));
        Assert.Equal(10, rest.Count);
        var comedies = await store.SearchAsync(query, 30, new PgSearchOptions { EfSearch = 100, AnyCategory = ["comedy"] });
        Assert.Equal(30, comedies.Count);
        Assert.All(comedies, c => Assert.Equal(1, int.Parse(c.ItemId["item-".Length..]) % 3));
        Assert.Equal(comedies.Select(c => c.Score).OrderByDescending(s => s), comedies.Select(c => c.Score));
    }

    [PgFact]
    public async Task UpsertAndDelete_ChangeTheCurrentVersion()
    {
        await using var ds = PgServer.DataSource();
        const int d = 4;
        var (ids, vectors) = Catalogue(50, d, 3);
        var store = new PgItemStore(ds, PgServer.Prefix());
        await store.PublishAsync(ids, vectors, d, "m");
        await store.UpsertAsync(["item-1", "new-item"], new float[] { 9, 9, 9, 9, 8, 8, 8, 8 }, d);
        var top = await store.SearchAsync(new float[] { 1, 1, 1, 1 }, 2, new PgSearchOptions { Exact = true });
        Assert.Equal(["item-1", "new-item"], top.Select(c => c.ItemId));
        Assert.Equal(51, (await store.CurrentAsync())!.Items);
        Assert.Equal(1, await store.DeleteAsync(["new-item", "never-there"]));
        Assert.DoesNotContain("new-item", (await store.SearchAsync(new float[] { 1, 1, 1, 1 }, 60, new PgSearchOptions { Exact = true })).Select(c => c.ItemId));
        await Assert.ThrowsAsync<InvalidOperationException>(() => store.UpsertAsync(["x"], new float[] { 1, 2, 3 }, 3));
    }

    [PgFact]
    public async Task AVersionSwap_IsAtomic_ForConcurrentReaders()
    {
        await using var ds = PgServer.DataSource();
        const int d = 8, n = 2000;
        var store = new PgItemStore(ds, PgServer.Prefix());
        var ids = Enumerable.Range(0, n).Select(i => $"i{i}").ToArray();
        // Every vector of version v has v in dimension 0: a result mixing versions would show two values there.
        float[] VersionVectors(int v)
        {
            var x = PgServer.Random(n, d, v);
            for (int i = 0; i < n; i++) x[i * d] = v;
            return x;
        }
        await store.PublishAsync(ids, VersionVectors(1), d, "v1");
        using var stop = new CancellationTokenSource();
        var query = PgServer.Random(1, d, 7);
        query[0] = 1;
        int reads = 0;
        var readers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            var seen = new HashSet<float>();
            while (!stop.IsCancellationRequested)
            {
                var result = await store.SearchAsync(query, 50, new PgSearchOptions { EfSearch = 60, IncludeVectors = true });
                Assert.Equal(50, result.Count);
                Assert.Single(result.Select(c => c.Vector![0]).Distinct());
                seen.Add(result[0].Vector![0]);
                Interlocked.Increment(ref reads);
            }
            return seen;
        })).ToArray();
        for (int v = 2; v <= 5; v++) await store.PublishAsync(ids, VersionVectors(v), d, $"v{v}");
        await Task.Delay(200);
        stop.Cancel();
        var seenVersions = (await Task.WhenAll(readers)).SelectMany(s => s).ToHashSet();
        Assert.True(reads > 20, $"only {reads} reads ran");
        Assert.Contains(5f, seenVersions);
        // Only the current and the previous version remain.
        await using (var conn = await ds.OpenConnectionAsync())
        await using (var count = new NpgsqlCommand("SELECT count(*) FROM pg_tables WHERE tablename LIKE @p", conn) { Parameters = { new("p", store.Prefix + "\\_v%") } })
            Assert.Equal(2L, (long)(await count.ExecuteScalarAsync())!);
        Assert.Equal("v5", (await store.CurrentAsync())!.ModelVersion);
    }

    [PgFact]
    public async Task InjectionAttempts_InIdsAndCategories_AreInert()
    {
        await using var ds = PgServer.DataSource();
        var store = new PgItemStore(ds, PgServer.Prefix());
        string[] hostile = ["x'); DROP TABLE pg_class; --", "\"; DELETE FROM " + store.Prefix + "_current; --", "' OR '1'='1", "ok"];
        await store.PublishAsync(hostile, PgServer.Random(4, 2, 1), 2, "'; DROP SCHEMA public; --",
            new PgPublishOptions { Categories = [["'); DROP TABLE x; --"], null, null, null] });
        var all = await store.SearchAsync(new float[] { 1, 0 }, 10, new PgSearchOptions { Exact = true, ExcludeItems = [hostile[2]], AnyCategory = null });
        Assert.Equal(hostile.Except([hostile[2]]).OrderBy(s => s), all.Select(c => c.ItemId).OrderBy(s => s));
        var byCategory = await store.SearchAsync(new float[] { 1, 0 }, 10, new PgSearchOptions { Exact = true, AnyCategory = ["'); DROP TABLE x; --"] });
        Assert.Equal([hostile[0]], byCategory.Select(c => c.ItemId));
        Assert.Equal("'; DROP SCHEMA public; --", (await store.CurrentAsync())!.ModelVersion);
        Assert.Throws<ArgumentException>(() => new PgItemStore(ds, "items; DROP TABLE x"));
    }

    [PgFact]
    public async Task BadInput_IsRefusedByName()
    {
        await using var ds = PgServer.DataSource();
        var store = new PgItemStore(ds, PgServer.Prefix());
        Assert.Contains("itemIds[1]", (await Assert.ThrowsAsync<ArgumentException>(() => store.PublishAsync(["a", "a"], new float[4], 2, "m"))).Message);
        Assert.Contains("values", (await Assert.ThrowsAsync<ArgumentException>(() => store.PublishAsync(["a"], new float[3], 2, "m"))).Message);
        Assert.Contains("non-finite", (await Assert.ThrowsAsync<ArgumentException>(() => store.PublishAsync(["a"], new[] { 1f, float.NaN }, 2, "m"))).Message);
        Assert.Contains("HnswM", (await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.PublishAsync(["a"], new float[2], 2, "m", new PgPublishOptions { HnswM = 1 }))).Message);
        Assert.Contains("HnswEfConstruction", (await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.PublishAsync(["a"], new float[2], 2, "m", new PgPublishOptions { HnswM = 16, HnswEfConstruction = 20 }))).Message);
        Assert.Contains("StatementTimeout", (await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.PublishAsync(["a"], new float[2], 2, "m", new PgPublishOptions { StatementTimeout = TimeSpan.Zero }))).Message);
        Assert.Contains("no published version", (await Assert.ThrowsAsync<PgStoreException>(() => store.SearchAsync(new float[2], 5))).Message);
        await store.PublishAsync(["a"], new float[] { 1, 2 }, 2, "m");
        Assert.Contains("dimensions", (await Assert.ThrowsAsync<ArgumentException>(() => store.SearchAsync(new float[3], 5))).Message);
    }

    /// <summary>Terminates the connections of one application name only, so tests running beside this one keep theirs.</summary>
    private static async Task KillOtherBackends(NpgsqlDataSource admin, string applicationName)
    {
        await using var conn = await admin.OpenConnectionAsync();
        await using var cmd = new NpgsqlCommand("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = @app", conn)
        {
            Parameters = { new("app", applicationName) },
        };
        await cmd.ExecuteScalarAsync();
    }

    [PgFact]
    public async Task ADroppedConnection_GivesAClearError_AndARetrySucceeds()
    {
        string app = "hierrec-drop-" + Guid.NewGuid().ToString("N")[..8];
        await using var ds = PgItemStore.CreateDataSource(PgServer.ConnectionString! + $";Application Name={app}");
        await using var admin = NpgsqlDataSource.Create(PgServer.ConnectionString! + ";Pooling=false");
        const int d = 64;
        var store = new PgItemStore(ds, PgServer.Prefix());
        var (ids, vectors) = Catalogue(1000, d, 1);
        await store.PublishAsync(ids, vectors, d, "first");
        var query = PgServer.Random(1, d, 3);

        // Reads: the pooled connections die between requests; the store retries once and succeeds.
        await store.SearchAsync(query, 10);
        await KillOtherBackends(admin, app);
        Assert.Equal(10, (await store.SearchAsync(query, 10)).Count);
        var noRetry = new PgItemStore(ds, store.Prefix) { ReadAttempts = 1 };
        await noRetry.SearchAsync(query, 10);
        await KillOtherBackends(admin, app);
        var error = await Assert.ThrowsAsync<PgStoreException>(() => noRetry.SearchAsync(query, 10));
        Assert.Contains("searching", error.Message);
        Assert.Contains(store.Prefix, error.Message);

        // A publication killed mid-COPY: a clear error, the published version unchanged, and publishing again works.
        var (bigIds, bigVectors) = Catalogue(150_000, d, 2);
        var publishing = store.PublishAsync(bigIds, bigVectors, d, "second", new PgPublishOptions { BuildIndex = false });
        await Task.Delay(300);
        await KillOtherBackends(admin, app);
        var failed = await Assert.ThrowsAsync<PgStoreException>(() => publishing);
        Assert.Contains("unchanged", failed.Message);
        Assert.Equal("first", (await store.CurrentAsync())!.ModelVersion);
        var again = await store.PublishAsync(bigIds, bigVectors, d, "second", new PgPublishOptions { BuildIndex = false });
        Assert.Equal("second", again.ModelVersion);
        Assert.Equal(150_000, again.Items);
    }

    [PgFact]
    public async Task TheStore_IsRegisteredForDependencyInjection()
    {
        var services = new Microsoft.Extensions.DependencyInjection.ServiceCollection();
        string prefix = PgServer.Prefix();
        services.AddHierRecPostgreSql(PgServer.ConnectionString!, prefix);
        await using var provider = Microsoft.Extensions.DependencyInjection.ServiceCollectionContainerBuilderExtensions.BuildServiceProvider(services);
        var store = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<PgItemStore>(provider);
        Assert.Equal(prefix, store.Prefix);
        await store.PublishAsync(["a", "b"], new float[] { 1, 0, 0, 1 }, 2, "m");
        Assert.Equal("a", (await store.SearchAsync(new float[] { 1, 0 }, 1)).Single().ItemId);
        Assert.Throws<ArgumentException>(() => services.AddHierRecPostgreSql(PgServer.ConnectionString!, "bad prefix; --"));
    }
}

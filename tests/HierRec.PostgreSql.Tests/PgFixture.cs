using Npgsql;

namespace HierRec.PostgreSql.Tests;

/// <summary>
/// The test server: $HIERREC_PG (a connection string; .ci/run starts a throw-away cluster and sets it). Without it the
/// tests skip visibly on a developer machine, and fail in CI ($CI set), where a missing server is a broken set-up.
/// </summary>
public static class PgServer
{
    public static string? ConnectionString => Environment.GetEnvironmentVariable("HIERREC_PG") is { Length: > 0 } s ? s : null;

    public static bool InCi => Environment.GetEnvironmentVariable("CI") is { Length: > 0 } v && v != "false";

    public static NpgsqlDataSource DataSource() => PgItemStore.CreateDataSource(ConnectionString
        ?? throw new InvalidOperationException("HIERREC_PG is not set: CI must start PostgreSQL (.ci/postgres.sh start) before the tests."));

    /// <summary>A fresh table prefix per test, so tests never see each other's tables.</summary>
    public static string Prefix() => "t_" + Guid.NewGuid().ToString("N")[..16];

    public static float[] Random(int n, int d, int seed)
    {
        var rng = new Random(seed);
        var v = new float[n * d];
        for (int i = 0; i < v.Length; i++) v[i] = (float)(rng.NextDouble() * 2 - 1);
        return v;
    }
}

/// <summary>A fact that needs the PostgreSQL test server (skipped visibly outside CI when it is absent).</summary>
public sealed class PgFactAttribute : FactAttribute
{
    public PgFactAttribute()
    {
        if (PgServer.ConnectionString is null && !PgServer.InCi) Skip = "skipped: no PostgreSQL (set HIERREC_PG, or run .ci/run)";
    }
}

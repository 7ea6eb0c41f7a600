using HierRec.Data;
using Npgsql;

namespace HierRec.PostgreSql.Tests;

public class PgDatasetLoaderTests
{
    private static async Task<string> Tables(NpgsqlDataSource ds, string interactionsRows)
    {
        string p = PgServer.Prefix();
        await using var conn = await ds.OpenConnectionAsync();
        await using var cmd = new NpgsqlCommand($"""
            CREATE TABLE {p}_items (item_id text, title text, genres text[]);
            INSERT INTO {p}_items VALUES ('m1', 'Toy Story', ARRAY['animation','comedy']), ('m2', 'Heat', NULL), ('m3', NULL, ARRAY['drama']);
            CREATE TABLE {p}_users (user_id text, age integer, occupation text);
            INSERT INTO {p}_users VALUES ('u1', 24, 'student'), ('u2', NULL, NULL);
            CREATE TABLE {p}_ratings (user_id text, item_id text, rating real, at timestamptz);
            INSERT INTO {p}_ratings VALUES {interactionsRows};
            """, conn);
        await cmd.ExecuteNonQueryAsync();
        return p;
    }

    private static Dataset Load(NpgsqlDataSource ds, string p) => PgDatasetLoader.Load(ds, "test", $"{p}_ratings",
        new InteractionColumns("user_id", "item_id", "rating", "at"),
        items: ($"{p}_items", new ItemColumns("item_id", ["title"], ["genres"], '|')),
        users: ($"{p}_users", new UserColumns("user_id", ["occupation"], ["age"])));

    [PgFact]
    public async Task Tables_LoadLikeFiles_WithTimesAsUnixSeconds_AndNullsAsEmpty()
    {
        await using var ds = PgServer.DataSource();
        string p = await Tables(ds, "('u1','m1',4,'2020-01-01T00:00:00Z'), ('u1','m2',3.5,'2020-01-02T00:00:00Z'), ('u2','m3',5,'2020-01-03T00:00:00Z')");
        var data = Load(ds, p);
        Assert.Equal(2, data.UserCount);
        Assert.Equal(3, data.ItemCount);
        Assert.Equal(3, data.Interactions.Count);
        Assert.Equal(1577836800L, data.Interactions[0].Timestamp);
        Assert.Equal(3.5f, data.Interactions[1].Value);
        Assert.Equal(["animation", "comedy"], data.ItemFeatures.Tags("genres")[0]);
        Assert.True(float.IsNaN(data.UserFeatures.Numeric("age")[1]));
    }

    [PgFact]
    public async Task BadRows_AreErrorsNamingTableRowAndColumn()
    {
        await using var ds = PgServer.DataSource();
        string p = await Tables(ds, "('u1','m1',4,now()), (NULL,'m2',3,now())");
        var nullUser = Assert.Throws<DataFormatException>(() => Load(ds, p));
        Assert.Equal($"postgres:{p}_ratings", nullUser.File);
        Assert.Equal(2, nullUser.Line);
        Assert.Equal(1, nullUser.Column);
        string q = await Tables(ds, "('u1','m9',4,now())");
        Assert.Contains("'m9'", Assert.Throws<DataFormatException>(() => Load(ds, q)).Message);
        var missingColumn = Assert.Throws<DataFormatException>(() => PgDatasetLoader.Load(ds, "t", $"{q}_ratings", new InteractionColumns("user", "item_id")));
        Assert.Contains("no column 'user'", missingColumn.Message);
        Assert.Throws<ArgumentException>(() => PgDatasetLoader.Load(ds, "t", "ratings; DROP TABLE x", new InteractionColumns("user_id", "item_id")));
    }
}

using HierRec.Data;

namespace HierRec.Tests.Data;

public sealed class LoaderTests : IDisposable
{
    private static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Data", "Fixtures");
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "hierrec-data-" + Guid.NewGuid().ToString("N"));

    public LoaderTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, true);

    /// <summary>Copies a fixture folder so a test can corrupt one file.</summary>
    private string CopyOf(string fixture)
    {
        string dst = Path.Combine(_dir, fixture);
        Directory.CreateDirectory(dst);
        foreach (var f in Directory.GetFiles(Path.Combine(Fixtures, fixture))) File.Copy(f, Path.Combine(dst, Path.GetFileName(f)));
        return dst;
    }

    [Fact]
    public void MovieLens_LoadsItemsUsersRatingsAndGenreNames_FromLatin1()
    {
        var d = MovieLens100K.Load(Path.Combine(Fixtures, "ml-mini"));
        Assert.Equal((2, 3, 4), (d.UserCount, d.ItemCount, d.Interactions.Count));
        Assert.Equal("Café Story (1995)", d.ItemFeatures.Text("title")[0]);
        Assert.Equal(new[] { "Action", "Comedy" }, d.ItemFeatures.Tags("genres")[0]);
        Assert.Equal(new[] { "unknown" }, d.ItemFeatures.Tags("genres")[2]);
        Assert.Equal(1995f, d.ItemFeatures.Numeric("year")[0]);
        Assert.True(float.IsNaN(d.ItemFeatures.Numeric("year")[2]));
        Assert.Equal(53f, d.UserFeatures.Numeric("age")[1]);
        Assert.Equal("technician", d.UserFeatures.Categorical("occupation")[0]);
        Assert.Equal(new Interaction(0, 0, 5, 881250949), d.Interactions[0]);
    }

    [Fact]
    public void MovieLens_UnknownItem_IsAnErrorNamingFileLineAndColumn()
    {
        string folder = CopyOf("ml-mini");
        File.AppendAllText(Path.Combine(folder, "u.data"), "1\t99\t4\t881250953\n");
        var ex = Assert.Throws<DataFormatException>(() => MovieLens100K.Load(folder));
        Assert.EndsWith("u.data", ex.File);
        Assert.Equal((5, 2), (ex.Line, ex.Column));
        Assert.Contains("item 99 is not in u.item", ex.Message);
    }

    [Fact]
    public void MovieLens_UnparsableRatingAndWrongFieldCount_AreErrors_OrCountedWhenLenient()
    {
        string folder = CopyOf("ml-mini");
        File.AppendAllText(Path.Combine(folder, "u.data"), "1\t3\tfive\t881250953\n2\t1\t4\n");
        var ex = Assert.Throws<DataFormatException>(() => MovieLens100K.Load(folder));
        Assert.Equal((5, 3), (ex.Line, ex.Column));
        Assert.Contains("'five' is not a finite number", ex.Message);

        var report = new LoadReport();
        var d = MovieLens100K.Load(folder, new LoadOptions { ErrorMode = ErrorMode.Lenient, Report = report });
        Assert.Equal(4, d.Interactions.Count);
        Assert.Equal(2, report.SkippedLines);
        Assert.Contains("expected 4 fields, found 3", report.Problems[1].Message);
    }

    [Fact]
    public void MissingFile_IsAnErrorNamingIt()
    {
        string folder = CopyOf("ml-mini");
        File.Delete(Path.Combine(folder, "u.user"));
        var ex = Assert.Throws<DataFormatException>(() => MovieLens100K.Load(folder));
        Assert.Contains("u.user", ex.Message);
        Assert.Contains("file not found", ex.Message);
    }

    [Fact]
    public void LastFm_LoadsWeightsNamesAndTheSymmetricFriendGraph()
    {
        var d = LastFm2K.Load(Path.Combine(Fixtures, "lastfm-mini"));
        Assert.Equal(3, d.ItemCount);
        Assert.Equal(3, d.Interactions.Count);
        Assert.Equal("Björk", d.ItemFeatures.Text("name")[2]);
        Assert.Equal(13883f, d.Interactions[0].Value);
        Assert.Equal(3, d.UserCount);                 // user 9 exists only in the friend graph
        var friends = d.FriendLists();
        Assert.Equal(new[] { 1, 2 }, friends[d.Users["2"]]);
        var tags = LastFm2K.ReadTags(Path.Combine(Fixtures, "lastfm-mini"));
        Assert.Equal("chanson française", tags[1].Tag);
    }

    [Fact]
    public void InvalidUtf8_IsAnErrorNamingTheFile()
    {
        string folder = CopyOf("lastfm-mini");
        File.WriteAllBytes(Path.Combine(folder, "artists.dat"), [.. "id\tname\n1\tBj"u8, 0xF6, .. "rk\n"u8]);
        var ex = Assert.Throws<DataFormatException>(() => LastFm2K.Load(folder));
        Assert.Contains("artists.dat", ex.Message);
    }

    [Fact]
    public void DelimitedReader_HandlesQuotesDoubledQuotesAndEmbeddedDelimiters()
    {
        string path = Path.Combine(_dir, "x.csv");
        File.WriteAllText(path, "a,\"b,c\",\"say \"\"hi\"\"\",\n\"multi\nline\",2\n");
        using var r = new DelimitedReader(path, ',');
        Assert.True(r.Read(out var f));
        Assert.Equal(new[] { "a", "b,c", "say \"hi\"", "" }, f);
        Assert.True(r.Read(out f));
        Assert.Equal(new[] { "multi\nline", "2" }, f);
        Assert.Equal(2, r.Line);
        Assert.False(r.Read(out _));
        Assert.Throws<ArgumentException>(() => DelimitedReader.ResolveEncoding("no-such-encoding"));
    }

    [RealDataFact]
    public void RealMovieLens100K_HasTheDocumentedShape()
    {
        var d = MovieLens100K.Load(SharedData.Path("ml-100k"));
        Assert.Equal((943, 1682, 100_000), (d.UserCount, d.ItemCount, d.Interactions.Count));
        var first = d.Interactions[0];
        Assert.Equal(("196", "242", 3f, 881250949L), (d.Users.ToExternal(first.User), d.Items.ToExternal(first.Item), first.Value, first.Timestamp));
        Assert.True(d.Interactions.GroupBy(x => x.User).All(g => g.Count() >= 20));
        Assert.Equal(19, d.ItemFeatures.Tags("genres").SelectMany(g => g).Distinct().Count());
    }

    [RealDataFact]
    public void RealLastFm2K_HasTheDocumentedShape_AndSymmetricFriendships()
    {
        var d = LastFm2K.Load(SharedData.Path("hetrec2011-lastfm-2k"));
        Assert.Equal(92_834, d.Interactions.Count);
        Assert.Equal(1892, d.Interactions.Select(x => x.User).Distinct().Count());
        Assert.Equal(25_434, d.SocialEdges.Count);
        var edges = d.SocialEdges.ToHashSet();
        Assert.All(d.SocialEdges, e => Assert.Contains((e.B, e.A), edges));
        Assert.Equal(11_946, LastFm2K.ReadTags(SharedData.Path("hetrec2011-lastfm-2k")).Count);
    }
}

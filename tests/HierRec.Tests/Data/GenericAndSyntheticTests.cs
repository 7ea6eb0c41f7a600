using HierRec.Data;

namespace HierRec.Tests.Data;

public sealed class GenericAndSyntheticTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "hierrec-gen-" + Guid.NewGuid().ToString("N"));

    public GenericAndSyntheticTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, true);

    private string Write(string name, string text)
    {
        string p = Path.Combine(_dir, name);
        File.WriteAllText(p, text);
        return p;
    }

    [Fact]
    public void GenericLoader_MapsColumnsByNameAndIndex_WithQuotedTextTagsFeaturesAndSymmetricEdges()
    {
        var inter = Write("ratings.csv", "user,item,stars,when\nalice,m1,4.5,100\nbob,m2,3,200\nalice,m2,5,300\n");
        var itemsFile = Write("items.tsv", "id\ttitle\tgenres\nm1\t\"Heat, the film\"\tCrime|Drama\nm2\tSe7en\tCrime\n");
        var usersFile = Write("users.csv", "uid,age,city\nalice,31,Paris\nbob,,Lyon\n");
        var edgesFile = Write("friends.csv", "a,b\nalice,bob\n");
        var d = DelimitedDatasetLoader.Load("mine",
            new DelimitedFile(inter), new InteractionColumns("user", "#1", Value: "stars", Timestamp: "when"),
            (new DelimitedFile(itemsFile, '\t'), new ItemColumns("id", ["title"], ["genres"])),
            (new DelimitedFile(usersFile), new UserColumns("uid", ["city"], ["age"])),
            (new DelimitedFile(edgesFile), new EdgeColumns("a", "b")));
        Assert.Equal((2, 2, 3), (d.UserCount, d.ItemCount, d.Interactions.Count));
        Assert.Equal("Heat, the film", d.ItemFeatures.Text("title")[0]);
        Assert.Equal(new[] { "Crime", "Drama" }, d.ItemFeatures.Tags("genres")[0]);
        Assert.Equal(31f, d.UserFeatures.Numeric("age")[0]);
        Assert.True(float.IsNaN(d.UserFeatures.Numeric("age")[1]));
        Assert.Equal(new Interaction(0, 0, 4.5f, 100), d.Interactions[0]);
        Assert.Equal(2, d.SocialEdges.Count); // both directions
    }

    [Fact]
    public void GenericLoader_ErrorsNameFileLineAndColumn()
    {
        var inter = Write("ratings.csv", "user,item,stars\nalice,m1,4\nbob,m9,3\n");
        var itemsFile = Write("items.csv", "id,title\nm1,Heat\n");
        var ex = Assert.Throws<DataFormatException>(() => DelimitedDatasetLoader.Load("x", new DelimitedFile(inter), new InteractionColumns("user", "item", "stars"),
            (new DelimitedFile(itemsFile), new ItemColumns("id", ["title"]))));
        Assert.Equal((3, 2), (ex.Line, ex.Column));
        Assert.Contains("item 'm9' is not in the item file", ex.Message);

        var bad = Write("bad.csv", "user,item,stars\nalice,m1,four\n");
        ex = Assert.Throws<DataFormatException>(() => DelimitedDatasetLoader.Load("x", new DelimitedFile(bad), new InteractionColumns("user", "item", "stars")));
        Assert.Equal((2, 3), (ex.Line, ex.Column));
        ex = Assert.Throws<DataFormatException>(() => DelimitedDatasetLoader.Load("x", new DelimitedFile(bad), new InteractionColumns("user", "movie")));
        Assert.Contains("no column 'movie'", ex.Message);
        ex = Assert.Throws<DataFormatException>(() => DelimitedDatasetLoader.Load("x", new DelimitedFile(bad, Encoding: "klingon-8"), new InteractionColumns("user", "item")));
        Assert.Contains("unknown encoding", ex.Message);
    }

    [Fact]
    public void Synthetic_TitlesAreUnique()
    {
        var titles = SyntheticDataset.Generate().ItemFeatures.Text("title");
        Assert.Equal(titles.Length, titles.Distinct(StringComparer.Ordinal).Count());
        Assert.Contains(titles, t => t!.EndsWith(" II", StringComparison.Ordinal)); // repeats became sequels
    }

    [Fact]
    public void Synthetic_IsDeterministic_AndCarriesProfileSocialAndTextSignal()
    {
        var a = SyntheticDataset.Generate();
        var b = SyntheticDataset.Generate();
        Assert.Equal(a.Interactions, b.Interactions);
        Assert.Equal((600, 800), (a.UserCount, a.ItemCount));
        Assert.All(a.Interactions.GroupBy(x => x.User), g => Assert.True(g.Count() >= 10));

        // Text: an item's description names its category.
        var cat = a.ItemFeatures.Tags("genres").Select(g => g[0]).ToArray();
        Assert.All(Enumerable.Range(0, a.ItemCount), i => Assert.Contains(cat[i], a.ItemFeatures.Text("description")[i]!));

        // Behaviour concentrates: each user's top category holds far more than the 25 % chance share.
        double topShare = a.Interactions.GroupBy(x => x.User).Average(g => g.GroupBy(x => cat[x.Item]).Max(c => c.Count()) / (double)g.Count());
        Assert.True(topShare > 0.45, $"top-category share {topShare:F2}");

        // Profile: occupation predicts the favourite category better than chance.
        var fav = a.Interactions.GroupBy(x => x.User).ToDictionary(g => g.Key, g => g.GroupBy(x => cat[x.Item]).OrderByDescending(c => c.Count()).First().Key);
        var occ = a.UserFeatures.Categorical("occupation");
        double occAgreement = fav.GroupBy(kv => occ[kv.Key]).Sum(g => g.GroupBy(kv => kv.Value).Max(c => c.Count())) / (double)fav.Count;
        Assert.True(occAgreement > 0.4, $"occupation → favourite agreement {occAgreement:F2}");

        // Social: friends share favourites more often than random pairs.
        double friendsSame = a.SocialEdges.Average(e => fav[e.A] == fav[e.B] ? 1.0 : 0.0);
        var rng = new HierRec.Rng(1);
        double randomSame = Enumerable.Range(0, 5000).Average(_ => fav[rng.NextInt(600)] == fav[rng.NextInt(600)] ? 1.0 : 0.0);
        Assert.True(friendsSame > randomSame + 0.15, $"friends {friendsSame:F2} vs random {randomSame:F2}");
    }
}

using System.Text;
using HierRec.Data;

namespace HierRec.Tests.Reliability;

/// <summary>Delimited data files that lie about their encoding, hide bad bytes deep inside, or hold values that are not what they seem.</summary>
[Trait("Category", "Hostile")]
public sealed class DataFileTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "hierrec-data-" + Guid.NewGuid().ToString("N"));

    public DataFileTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, true);

    private string Write(string name, byte[] bytes)
    {
        string p = Path.Combine(_dir, name);
        File.WriteAllBytes(p, bytes);
        return p;
    }

    private static Dataset Load(string path, LoadOptions? options = null, string encoding = "utf-8", char delimiter = ',') =>
        DelimitedDatasetLoader.Load("x", new DelimitedFile(path, delimiter, encoding), new InteractionColumns("user", "item", "rating"), options: options);

    [Fact]
    public void TheDeclaredEncodingWins_AndAContradictingByteOrderMarkIsAnError()
    {
        // Latin-1 content (é = 0xE9) behind a UTF-8 BOM, declared Latin-1: refused, never decoded as U+FFFD.
        var latin1 = new byte[] { 0xEF, 0xBB, 0xBF }.Concat(Encoding.Latin1.GetBytes("user,item,rating\nren\u00e9,m1,4\n")).ToArray();
        var ex = Assert.Throws<DataFormatException>(() => Load(Write("latin.csv", latin1), encoding: "latin1"));
        Assert.Contains("UTF-8 byte-order mark but is declared", ex.Message);
        Assert.Equal(1, ex.Line);

        // The same BOM on a file declared UTF-8 agrees with it and is skipped; the header still resolves.
        var utf8 = new byte[] { 0xEF, 0xBB, 0xBF }.Concat(Encoding.UTF8.GetBytes("user,item,rating\nren\u00e9,m1,4\n")).ToArray();
        var d = Load(Write("utf8.csv", utf8));
        Assert.Equal("ren\u00e9", d.Users.ToExternal(0));

        // A UTF-16 BOM on a UTF-8 file is an error too, and a UTF-16 file declared UTF-16 reads.
        var utf16 = Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes("user,item,rating\nu1,m1,4\n")).ToArray();
        Assert.Contains("UTF-16 LE byte-order mark", Assert.Throws<DataFormatException>(() => Load(Write("u16.csv", utf16))).Message);
        Assert.Single(Load(Write("u16ok.csv", utf16), encoding: "utf-16").Interactions);
    }

    [Fact]
    public void InvalidUtf8_NamesTheExactLine_AndLenientModeSkipsOnlyThatLine()
    {
        var text = new MemoryStream();
        text.Write("user,item,rating\n"u8);
        for (int i = 2; i <= 6000; i++)
        {
            if (i == 4321) text.Write([(byte)'u', 0xC3, 0x28, (byte)',', (byte)'m', (byte)'1', (byte)',', (byte)'1', (byte)'\n']);
            else text.Write(Encoding.ASCII.GetBytes($"u{i},m{i % 50},{i % 5 + 1}\n"));
        }
        string path = Write("bad-utf8.csv", text.ToArray());
        var ex = Assert.Throws<DataFormatException>(() => Load(path));
        Assert.Equal(4321, ex.Line);
        Assert.Contains("not valid utf-8", ex.Message);

        var report = new LoadReport();
        var d = Load(path, new LoadOptions { ErrorMode = ErrorMode.Lenient, Report = report });
        Assert.Equal(5998, d.Interactions.Count);
        Assert.Equal(4321, Assert.Single(report.Problems).Line);
    }

    [Fact]
    public void AHugeBadField_GivesAShortMessage_AndARunawayLineIsRefusedWithoutBeingHeld()
    {
        byte[] Line(int fieldBytes)
        {
            var head = "user,item,rating\nu1,m1,"u8.ToArray();
            var bytes = new byte[head.Length + fieldBytes + 1];
            head.CopyTo(bytes, 0);
            bytes.AsSpan(head.Length, fieldBytes).Fill((byte)'x');
            bytes[^1] = (byte)'\n';
            return bytes;
        }
        var ex = Assert.Throws<DataFormatException>(() => Load(Write("big.csv", Line(5_000_000))));
        Assert.True(ex.Message.Length < 500, $"{ex.Message.Length} characters");
        Assert.Contains("5,000,000 characters", ex.Message);

        // 50 MB in one line: past LoadOptions.MaxLineBytes (16 MiB), refused at that line without holding it.
        var huge = Assert.Throws<DataFormatException>(() => Load(Write("huge.csv", Line(50_000_000))));
        Assert.Equal(2, huge.Line);
        Assert.Contains("longer than 16,777,216 bytes", huge.Message);
        var lenient = new LoadReport();
        var kept = Load(Write("huge2.csv", Line(50_000_000).Concat("u2,m2,4\n"u8.ToArray()).ToArray()), new LoadOptions { ErrorMode = ErrorMode.Lenient, Report = lenient });
        Assert.Equal(4f, Assert.Single(kept.Interactions).Value); // the line after the runaway one is read
        Assert.Equal(2, Assert.Single(lenient.Problems).Line);
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("-Infinity")]
    [InlineData("1e39")]
    public void NonFiniteRatings_AreErrors(string rating)
    {
        string path = Write("nan.csv", Encoding.ASCII.GetBytes($"user,item,rating\nu1,m1,4\nu2,m1,{rating}\n"));
        var ex = Assert.Throws<DataFormatException>(() => Load(path));
        Assert.Equal((3L, 3), (ex.Line, ex.Column));
        Assert.Contains("not a finite number", ex.Message);
    }

    [Fact]
    public void IdNormalisation_IsExplicit()
    {
        string path = Write("ids.csv", Encoding.ASCII.GetBytes("user,item,rating\n01,m1,4\n1,m2,3\n 1 ,m3,5\n"));
        Assert.Equal(3, Load(path).UserCount); // exact by default: three ids
        Assert.Equal(2, Load(path, new LoadOptions { Ids = IdNormalization.TrimWhitespace }).UserCount);
        var byValue = Load(path, new LoadOptions { Ids = IdNormalization.IntegerValue });
        Assert.Equal(1, byValue.UserCount);
        Assert.Equal("1", byValue.Users.ToExternal(0));
    }

    [Fact]
    public void AWrongDelimiter_SaysSo()
    {
        string path = Write("semi.csv", Encoding.ASCII.GetBytes("user;item;rating\nu1;m1;4\n"));
        var ex = Assert.Throws<DataFormatException>(() => Load(path));
        Assert.Contains("is that the file's delimiter", ex.Message);
        Assert.Contains("';'", ex.Message);
    }

    [Fact]
    public void AnUnknownFeatureColumn_IsAnError_ListingTheKnownOnes()
    {
        var d = SyntheticDataset.Generate(new SyntheticOptions { Users = 20, Items = 30 });
        var ex = Assert.Throws<KeyNotFoundException>(() => d.ItemFeatures.Text("titel"));
        Assert.Contains("No text column 'titel'", ex.Message);
        Assert.Contains("title", ex.Message);
        Assert.Equal(30, d.ItemFeatures.Text("title").Length);
    }

    [Theory]
    [InlineData(0.8, 0.1, 0.2)]
    [InlineData(0.8, 0.1, 0.05)]
    [InlineData(8, 1, 1)]
    public void SplitRatiosThatDoNotSumToOne_AreErrors(double train, double validation, double test)
    {
        var d = SyntheticDataset.Generate(new SyntheticOptions { Users = 20, Items = 30 });
        Assert.Contains("must sum to 1", Assert.Throws<ArgumentException>(() => Splits.RandomRatioPerUser(d, train, validation, test, 1)).Message);
        Assert.Contains("must sum to 1", Assert.Throws<ArgumentException>(() => Splits.ChronologicalRatioPerUser(d, train, validation, test)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Splits.RandomRatioPerUser(d, double.NaN, 0.5, 0.5, 1));
    }
}

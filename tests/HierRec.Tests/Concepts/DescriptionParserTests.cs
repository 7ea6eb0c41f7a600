using HierRec.Concepts;

namespace HierRec.Tests.Concepts;

public sealed class DescriptionParserTests
{
    private static readonly DescriptionParser Parser = new();

    private static (string Content, bool Negative)[] Parse(string text, bool handleNegation = true) =>
        Parser.Split(text, handleNegation).Select(c => (c.Content, c.Negative)).ToArray();

    [Fact]
    public void EnglishDescription_SplitsIntoPositiveAndNegativeClauses() =>
        Assert.Equal([("mystery films", false), ("romance", true)], Parse("likes mystery films, dislikes romance"));

    [Fact]
    public void ChineseDescription_SplitsIntoPositiveAndNegativeClauses() =>
        Assert.Equal([("悬疑电影", false), ("爱情电影", true)], Parse("喜欢悬疑电影，讨厌爱情电影"));

    [Fact]
    public void Conjunctions_StartClauses_ThatKeepThePreviousPolarity() =>
        Assert.Equal([("Action", false), ("Drama films", false), ("Horror", true), ("Westerns", true)],
            Parse("I love Action and Drama films but I hate Horror and Westerns"));

    [Fact]
    public void ChineseContrast_AfterAComma_IsNegative() =>
        Assert.Equal([("动作片和剧情片", false), ("恐怖片", true)], Parse("我爱看动作片和剧情片，但不喜欢恐怖片"));

    [Theory]
    [InlineData("not a fan of horror", true)]          // "not" outweighs "fan"
    [InlineData("dislikes westerns", true)]            // "dislikes" is not "likes"
    [InlineData("I don't like musicals", true)]
    [InlineData("can't stand slapstick", true)]
    [InlineData("不喜欢恐怖片", true)]                   // 不喜欢 contains 喜欢
    [InlineData("I like notable dramas", false)]       // "not" is a whole word only
    [InlineData("喜欢爱情电影", false)]                  // 爱情 (romance) is not a cue
    public void Polarity_FollowsTheStrongestCue(string text, bool negative) => Assert.Equal(negative, Assert.Single(Parser.Split(text)).Negative);

    [Fact]
    public void RomanceInChinese_KeepsItsCharacters_WhenCuesAreStripped() =>
        Assert.Equal("爱情电影", Assert.Single(Parser.Split("喜欢爱情电影")).Content);

    [Fact]
    public void WithoutNegationHandling_EveryClauseIsPositive() =>
        Assert.All(Parse("likes mystery, hates romance", handleNegation: false), c => Assert.False(c.Negative));

    [Fact]
    public void CueLists_AreConfigurable()
    {
        var parser = new DescriptionParser(ConceptCues.Default with { NegativeCues = [.. ConceptCues.Default.NegativeCues, "meh"] });
        Assert.True(Assert.Single(parser.Split("meh about westerns")).Negative);
        Assert.False(Assert.Single(Parser.Split("meh about westerns")).Negative);
    }

    [Fact]
    public void ClausesWithoutContent_AreKeptWithEmptyContent_AndLeftOutOfThePolaritySides()
    {
        var clauses = Parser.Split("I like, I hate horror");
        Assert.Equal(2, clauses.Count);
        Assert.Equal("", clauses[0].Content);
        Assert.Equal(("", "horror"), Parser.SplitByPolarity("I like, I hate horror"));
    }

    [Fact]
    public void Augmentations_KeepItemsAndOrderAsDocumented()
    {
        var rng = new Rng(3);
        int[] history = [.. Enumerable.Range(10, 20)];
        for (int trial = 0; trial < 50; trial++)
        {
            var masked = HistoryAugmentation.Mask(history, 0.3, rng);
            Assert.NotEmpty(masked);
            Assert.Equal(masked.Order(), masked);                           // a subsequence, order kept
            Assert.Subset(history.ToHashSet(), masked.ToHashSet());
            var cropped = HistoryAugmentation.Crop(history, 0.6, rng);
            Assert.Equal(12, cropped.Length);
            Assert.Equal(Enumerable.Range(cropped[0], 12), cropped);        // contiguous
            var reordered = HistoryAugmentation.Reorder(history, 0.3, rng);
            Assert.Equal(history, reordered.Order());                       // a permutation
            Assert.True(history.Zip(reordered).Count(p => p.First != p.Second) <= 6); // of one window of 6
        }
    }
}

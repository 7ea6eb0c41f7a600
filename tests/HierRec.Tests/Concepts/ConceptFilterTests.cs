using HierRec.Concepts;
using HierRec.Ranking;

namespace HierRec.Tests.Concepts;

public sealed class ConceptFilterTests
{
    // Items at 0°, 90°, 45° and 180° (the third longer, to show the filter uses cosines).
    private static readonly float[] Items = [1, 0, 0, 1, 3, 3, -1, 0];

    private static ConceptFilter Filter(float[]? positive, float[]? negative, float theta, float thetaNeg) =>
        new(Items.Chunk(2).SelectMany(v => ConceptFilter.Normalized(v)).ToArray(), 2, positive, negative, theta, thetaNeg);

    [Fact]
    public void PositiveSide_KeepsItemsAtLeastThetaSimilar()
    {
        var f = Filter([2, 0], null, 0.5f, float.PositiveInfinity);
        Assert.Equal([true, false, true, false], Enumerable.Range(0, 4).Select(f.Allows));
        Assert.Equal(1 / MathF.Sqrt(2), f.PositiveSimilarity(2), 5);
    }

    [Fact]
    public void NegativeSide_DropsItemsAtLeastThetaNegSimilar()
    {
        var f = Filter(null, [0, 1], float.NegativeInfinity, 0.7f);
        Assert.Equal([true, false, false, true], Enumerable.Range(0, 4).Select(f.Allows));
        var both = Filter([1, 0], [0, 1], 0.5f, 0.9f);
        Assert.Equal([true, false, true, false], Enumerable.Range(0, 4).Select(both.Allows));
    }

    [Fact]
    public void InfiniteThresholds_SwitchASideOff()
    {
        Assert.False(Filter([1, 0], [0, 1], float.NegativeInfinity, float.PositiveInfinity).IsActive);
        Assert.True(Filter([1, 0], null, 0f, float.PositiveInfinity).IsActive);
    }

    [Fact]
    public void InTheRanker_FilteredItemsNeverAppear_AndProbabilitiesStayOverTheWholeCatalogue()
    {
        using var index = ItemIndex.Create(Items, 4, 2);
        float[] query = [0.5f, 1f];
        var all = index.Rank(query, 4);
        var filtered = index.Rank(query, 4, new RankOptions { Filter = Filter([1, 0], null, 0.5f, float.PositiveInfinity) });
        Assert.Equal([2, 0], filtered.Select(r => r.ItemIndex));
        foreach (var r in filtered) Assert.Equal(all.Single(a => a.ItemIndex == r.ItemIndex).Probability, r.Probability, 6);
    }
}

public sealed class NegativeFallbackTests
{
    [Fact]
    public void ARejection_IsNeverSwitchedOffSilently()
    {
        // Calibration chose +∞: the fallback quantile applies and says so.
        Assert.Equal((0.71f, true), HierRec.Concepts.ConceptTrainer.NegativeFallback(float.PositiveInfinity, false, 0.9, q => q == 0.9 ? 0.71f : null));
        // A finite choice, a threshold the caller fixed, or no fallback asked for: left as it is.
        Assert.Equal((0.4f, false), HierRec.Concepts.ConceptTrainer.NegativeFallback(0.4f, false, 0.9, _ => 0.71f));
        Assert.Equal((float.PositiveInfinity, false), HierRec.Concepts.ConceptTrainer.NegativeFallback(float.PositiveInfinity, true, 0.9, _ => 0.71f));
        Assert.Equal((float.PositiveInfinity, false), HierRec.Concepts.ConceptTrainer.NegativeFallback(float.PositiveInfinity, false, null, _ => 0.71f));

        var off = new HierRec.Concepts.ConceptReport(0, 0, 0, 0, 0, 0, 0, float.NegativeInfinity, float.PositiveInfinity, 0, 0, TimeSpan.Zero, null,
            PositiveFilterOff: true, NegativeFilterOff: true);
        Assert.Contains("negative filter OFF", off.FilterSummary);
        var fallback = off with { NegativeFallbackThreshold = 0.71f, NegativeFilterOff = false, NegativeFilterFallback = true };
        Assert.Contains("fallback θ⁻ 0.71", fallback.FilterSummary);
    }
}

public sealed class ItemWordsTests
{
    [Fact]
    public void ARejectedWord_FindsTheItemsWhoseTextNamesIt_PluralsAndAccentsIncluded()
    {
        var texts = new string?[] { "Sleepless in Seattle (Comedy|Romance)", "Heat (Crime|Thriller)", "Amélie (Comedies|Romance)", null, "Se7en (Crime|Thriller)",
            "Alien (Horror|Sci-Fi)", "Babe (Children's|Comedy)", "Fargo (Crime|Drama)", "Jaws (Action|Horror)", "Toy Story (Animation)", "东京物语" };
        var words = HierRec.Concepts.ItemWords.FromTexts(texts);
        Assert.Equal([0, 2], words.Mentioning("romance").Order());
        Assert.Equal([0, 2, 6], words.Mentioning("comedies").Order());         // "comedies" and "comedy" are one word
        Assert.Equal([2], words.Mentioning("AMELIE").Order());                 // case and accents do not matter
        Assert.Equal([1, 4, 7], words.Mentioning("crime").Order());            // 3 of 11 texts: under the 30 % limit
        Assert.Empty(HierRec.Concepts.ItemWords.FromTexts(["drama a", "drama b", "drama c", "x"]).Mentioning("drama")); // in 3 of 4: too common to mean a rejection
        Assert.Empty(words.Mentioning("东京"));                                 // scripts without spaces are left to the concept similarity
        Assert.Empty(words.Mentioning("a an of"));
    }

    [Fact]
    public void TheGlossary_LetsAChineseDescriptionNameTheWordsOfAnEnglishCatalogue()
    {
        var words = HierRec.Concepts.ItemWords.FromTexts(["Sleepless in Seattle (Comedy|Romance)", "Heat (Crime|Thriller)", "Alien (Horror|Sci-Fi)",
            "Babe (Children's|Comedy)", "Fargo (Crime|Drama)", "Toy Story (Animation)", "Jaws (Action|Horror)", "Big (Drama)"]);
        var cues = HierRec.Concepts.ConceptCues.Default;
        Assert.Equal("爱情片", new HierRec.Concepts.ConceptCues { Glossary = new Dictionary<string, string>() }.WithGlossary("爱情片")); // off: unchanged
        Assert.Equal([0], words.Mentioning(cues.WithGlossary("爱情片")).Order());          // a substring: 爱情 inside 爱情片
        Assert.Equal([2], words.Mentioning(cues.WithGlossary("科幻电影")).Order());        // 科幻 → sci-fi: "Sci" of "Sci-Fi"
        Assert.Equal([0, 3], words.Mentioning(cues.WithGlossary("喜剧")).Order());
        Assert.Empty(words.Mentioning(cues.WithGlossary("那个导演")));                     // not in the glossary: nothing named
        Assert.Equal("小丑", cues.WithGlossary("小丑"));
        var own = new HierRec.Concepts.ConceptCues { Glossary = new Dictionary<string, string>(HierRec.Concepts.ConceptCues.DefaultGlossary) { ["熊"] = "babe", ["big"] = "heat" } };
        Assert.Equal([3], words.Mentioning(own.WithGlossary("熊")).Order());                 // a catalogue's own entries
        Assert.Equal([1, 7], words.Mentioning(own.WithGlossary("big")).Order());             // a Latin key matches a whole word...
        Assert.Empty(words.Mentioning(own.WithGlossary("bigger")));                          // ...not inside another
        // The longest key wins: a word that contains a genre name but is not that genre names nothing of it.
        var music = HierRec.Concepts.ItemWords.FromTexts(["Kraftwerk (electronic)", "Zelda (video game)", "Walden (nature)", "Bach (classical)"]);
        Assert.Equal([0], music.Mentioning(cues.WithGlossary("喜欢电子音乐")).Order());
        Assert.Equal([1], music.Mentioning(cues.WithGlossary("喜欢电子游戏")).Order());          // 电子游戏 is video games, not 电子 electronic
        Assert.Equal([0, 1], music.Mentioning(cues.WithGlossary("电子游戏和电子乐")).Order());    // both, each where it stands
        Assert.Empty(music.Mentioning(cues.WithGlossary("自然而然地喜欢")));                    // "" names nothing, and hides 自然
        Assert.Equal([2], music.Mentioning(cues.WithGlossary("喜欢大自然")).Order());
        Assert.Equal([0, 2], words.Mentioning(cues.WithGlossary("喜欢科幻和爱情")).Order());     // several keys in one text
        var overlap = new HierRec.Concepts.ConceptCues { Glossary = new Dictionary<string, string> { ["古典"] = "classical", ["典"] = "walden" } };
        Assert.Equal([3], music.Mentioning(overlap.WithGlossary("古典")).Order());             // the longer key at a position takes it whole
    }
}

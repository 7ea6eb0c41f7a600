using HierRec.Concepts;
using HierRec.Text;

namespace HierRec.Tests.Concepts;

/// <summary>
/// The domain's generic description words ("films"): the users who write them consume like any users. Words that
/// split the users by taste stay specific however common they are.
/// </summary>
public sealed class CommonDescriptionWordsTests
{
    private static readonly string[] Genres = ["mystery", "romance", "comedy"];

    private static BertTokenizer Tokenizer() => BertTokenizer.Create(
        ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "i", "love", "films", "classic", "ones", "rarely", "and", "but", "hate", ",", "!", .. Genres, "myst", "##ery"]);

    private static readonly DescriptionParser Parser = new();

    private static string Positive(string text) => Parser.SplitByPolarity(text).Positive;

    /// <summary>90 items, thirty of each genre: the genre's axis plus a little of each item's own (dimension 4).</summary>
    private static float[] Items() => Enumerable.Range(0, 90).SelectMany(i => new[] { i / 30 == 0 ? 1f : 0f, i / 30 == 1 ? 1f : 0f, i / 30 == 2 ? 1f : 0f, (i % 30) / 30f }).ToArray();

    /// <summary>
    /// <paramref name="users"/> users, each of one genre (a third each) with ten items of it; "I love {genre} films!",
    /// "classic ones" written by every other user whatever the genre, "rarely" by one user in twenty; every user not of
    /// romance adds "but I hate romance".
    /// </summary>
    private static (IReadOnlyList<string>?[] Descriptions, int[][] Histories) Users(int users)
    {
        var descriptions = new IReadOnlyList<string>?[users];
        var histories = new int[users][];
        for (int u = 0; u < users; u++)
        {
            int g = u % 3;
            string text = $"I love {Genres[g]} films" + (u / 3 % 2 == 0 ? ", classic ones" : "") + (u % 20 == 0 ? " rarely" : "") + (g != 1 ? " but I hate romance" : "");
            descriptions[u] = [text, $"{Genres[g]}, and films"];
            histories[u] = Enumerable.Range(0, 10).Select(j => g * 30 + (u * 7 + j * 3) % 30).Distinct().ToArray();
        }
        return (descriptions, histories);
    }

    [Fact]
    public void WordsEveryTasteWrites_AreGeneric_AndWordsThatSplitTheTastes_AreNot()
    {
        var (descriptions, histories) = Users(90);
        var generic = CommonDescriptionWords.Find(Tokenizer(), Positive, descriptions, histories, Items(), 4);
        // The positive side only: the parser leaves the cue words ("I love") and conjunctions out of it.
        Assert.Equal(["classic", "films", "ones"], generic.Order(StringComparer.Ordinal));
        // A third of the users each, and their histories are of that genre: common, but specific. "romance" is written
        // by every user, but asked for only by those who consume it: the rejections do not count.
        foreach (var genre in Genres) Assert.DoesNotContain(genre, generic);
        // Used by 5 % of the users: not tested, never generic. Punctuation is not a word.
        Assert.DoesNotContain("rarely", generic);
        Assert.DoesNotContain(",", generic);
    }

    [Fact]
    public void TooFewDescribedUsers_NoWordIsGeneric_AndUsersWithoutHistoryDoNotCount()
    {
        var (descriptions, histories) = Users(19);
        Assert.Empty(CommonDescriptionWords.Find(Tokenizer(), Positive, descriptions, histories, Items(), 4));
        var (more, moreHistories) = Users(30);
        for (int u = 0; u < 11; u++) moreHistories[u] = [];
        Assert.Empty(CommonDescriptionWords.Find(Tokenizer(), Positive, more, moreHistories, Items(), 4));
        moreHistories[0] = [1];
        Assert.NotEmpty(CommonDescriptionWords.Find(Tokenizer(), Positive, more, moreHistories, Items(), 4));
        Assert.Throws<ArgumentException>(() => CommonDescriptionWords.Find(Tokenizer(), Positive, more, moreHistories[..5], Items(), 4));
        moreHistories[0] = [90];
        Assert.Contains("item 90", Assert.Throws<ArgumentException>(() => CommonDescriptionWords.Find(Tokenizer(), Positive, more, moreHistories, Items(), 4)).Message);
    }

    [Fact]
    public void Words_MergesPieces_KeepsTheOriginalText_JoinsHyphenatedWords_AndDropsPunctuation()
    {
        var tok = BertTokenizer.Create(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "i", "love", "myst", "##ery", "films", "film", "noir", "children", "s",
            "sci", "fi", ",", "!", "-", "'"]);
        Assert.Equal(["I", "love", "Mystery", "films"], DescriptionWords.Words(tok, "I love Mystery, films!"));
        Assert.Equal(["Film-Noir", "Children's", "Sci-Fi-Noir", "film", "noir"], DescriptionWords.Words(tok, "Film-Noir, Children's -Sci-Fi-Noir- film - noir"));
        // The attention weights of a joined word are its parts' (the joiner's included).
        var encoding = tok.Encode("love Film-Noir", maxLength: 16);
        var weights = encoding.Ids.Select((_, j) => (float)j).ToArray();
        var merged = DescriptionWords.Merge(tok, "love Film-Noir", encoding.Ids, weights);
        Assert.Equal(["love", "Film-Noir"], merged.Select(t => t.Token));
        Assert.Equal(2 + 3 + 4, merged[1].Weight, 6); // [CLS] 0, love 1, film 2, - 3, noir 4
    }
}

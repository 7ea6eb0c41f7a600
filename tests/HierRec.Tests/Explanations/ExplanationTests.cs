using HierRec.Explanations;
using HierRec.Tests.Concepts;

namespace HierRec.Tests.Explanations;

public sealed class ExplanationTests
{
    private static Explanation Example() => new("u1", "i9", 4.2f, 0.125, 1,
        new Dictionary<string, double> { ["profile"] = 0.3, ["behaviour"] = 0.6, ["social"] = 0.1 },
        new Dictionary<string, double> { ["profile"] = 1.2, ["behaviour"] = 1.8, ["social"] = -0.4 },
        [new("heat", 0.9), new("se7en", 0.5), new("babe", -0.3)], [new("babe", 0.5), new("heat", 0.3), new("se7en", 0.2)],
        [], [], null, 3);

    [Fact]
    public void ScoreShares_ArePositiveAttributionsOverTheirSum() =>
        Assert.Equal(new Dictionary<string, double> { ["profile"] = 1.2 / 3.0, ["behaviour"] = 1.8 / 3.0, ["social"] = 0 }, Example().ScoreShares);

    [Fact]
    public void Sentence_NamesTheMainLayer_AndTheHistoryItemsThatPushedTheScoreUp()
    {
        var names = new Dictionary<string, string> { ["heat"] = "Heat (1995)", ["se7en"] = "Se7en (1995)", ["babe"] = "Babe (1995)" };
        Assert.Equal("Recommended mainly for your history (60%): you watched Heat (1995) and Se7en (1995); also your profile (40%).",
            ExplanationText.ToSentence(Example(), id => names[id]));
    }

    private static Explanation WithDescription(string description, params TokenWeightPair[] words) => Example() with
    {
        LayerAttributions = new Dictionary<string, double> { ["profile"] = 0, ["behaviour"] = 1.0, ["social"] = 0, ["concept"] = 1.5 },
        Concept = new ConceptExplanation(description, [], words.Select(w => new HierRec.Concepts.TokenWeight(w.Word, w.Weight)).ToArray(), [], 0.8, null, true, 1.5),
    };

    public readonly record struct TokenWeightPair(string Word, double Weight);

    private static TokenWeightPair W(string word, double weight) => new(word, weight);

    [Fact]
    public void Sentence_QuotesTheDescriptionsWords_InEnglish()
    {
        var names = new Dictionary<string, string> { ["heat"] = "Heat (1995)", ["se7en"] = "Se7en (1995)", ["babe"] = "Babe (1995)" };
        Assert.Equal("Recommended mainly for your description (60%): you asked for \"mystery\" and \"Hitchcock\"; also your history (40%) — you watched Heat (1995) and Se7en (1995).",
            ExplanationText.ToSentence(WithDescription("likes mystery films by Hitchcock, dislikes romance", W("mystery", 0.5), W("Hitchcock", 0.3), W("films", 0.1)), id => names[id]));
    }

    [Fact]
    public void Sentence_IsInChinese_ForADescriptionInChinese()
    {
        var names = new Dictionary<string, string> { ["heat"] = "盗火线", ["se7en"] = "七宗罪", ["babe"] = "小猪宝贝", ["i9"] = "后窗" };
        Assert.Equal("主要因为你的描述（60%）：你想要“悬疑电影”；其次是你的历史（40%）——你看过盗火线和七宗罪。",
            ExplanationText.ToSentence(WithDescription("喜欢悬疑电影，讨厌爱情电影", W("悬疑电影", 0.9)), id => names[id]));
        string html = ExplanationText.ToHtml("推荐", [WithDescription("喜欢悬疑电影", W("悬疑电影", 0.9))], id => names[id]);
        Assert.Contains("<html lang=\"zh\">", html);
        Assert.Contains("分数的构成", html);
        Assert.Contains("你的描述", html);
    }

    /// <summary>A text-only newcomer's explanation, as ExplainFromDescription builds it: no user layers, "popular" and "concept" parts.</summary>
    private static Explanation FromDescription(string description, params TokenWeightPair[] words) => new("(new user)", "i9", 2.0f, 0.01, 1,
        new Dictionary<string, double>(), new Dictionary<string, double> { ["popular"] = 0.5, ["concept"] = 1.5 }, [], [], [], [],
        new ConceptExplanation(description, [], words.Select(w => new HierRec.Concepts.TokenWeight(w.Word, w.Weight)).ToArray(), [], 0.7, null, true, 1.5,
            words.Select(w => new HierRec.Concepts.TokenWeight(w.Word, w.Weight)).ToArray()), 4);

    [Fact]
    public void Sentence_ForATextOnlyNewcomer_NamesTheDescriptionAndWhatMostPeopleLike_InEitherLanguage()
    {
        Assert.Equal("Recommended mainly for your description (75%): you asked for \"mystery\" and \"films\"; also what most people like (25%).",
            ExplanationText.ToSentence(FromDescription("likes mystery films", W("mystery", 1.2), W("films", 0.2), W("likes", -0.05))));
        Assert.Equal("主要因为你的描述（75%）：你想要“悬疑”；其次是大多数人喜欢的（25%）。",
            ExplanationText.ToSentence(FromDescription("喜欢悬疑电影", W("悬疑", 1.2), W("喜欢", -0.1))));
        string html = ExplanationText.ToHtml("推荐", [FromDescription("喜欢悬疑电影", W("悬疑", 1.2), W("喜欢", -0.1))]);
        Assert.Contains("大多数人喜欢的", html);
        Assert.Equal(2, html.Split("<svg").Length - 1); // shares and words; no history or friends
    }

    [Fact]
    public void Sentence_NamesASecondPart_OnlyWhenItDidATenthOfWhatTheFirstDid()
    {
        // Words: "films" at a twelfth of "mystery" is not what the user asked for; "Hitchcock" at a tenth is.
        Assert.Equal("Recommended mainly for your description (75%): you asked for \"mystery\"; also what most people like (25%).",
            ExplanationText.ToSentence(FromDescription("likes mystery films", W("mystery", 1.2), W("films", 0.1), W("likes", -0.05))));
        Assert.Equal("Recommended mainly for your description (75%): you asked for \"mystery\" and \"Hitchcock\"; also what most people like (25%).",
            ExplanationText.ToSentence(FromDescription("likes mystery by Hitchcock", W("mystery", 1.0), W("Hitchcock", 0.1))));
        // History items and friends likewise.
        var names = new Dictionary<string, string> { ["heat"] = "Heat (1995)", ["se7en"] = "Se7en (1995)", ["babe"] = "Babe (1995)" };
        var faint = Example() with { HistoryAttributions = [new("heat", 0.9), new("se7en", 0.05), new("babe", -0.3)] };
        Assert.Equal("Recommended mainly for your history (60%): you watched Heat (1995); also your profile (40%).",
            ExplanationText.ToSentence(faint, id => names[id]));
        var social = Example() with
        {
            LayerAttributions = new Dictionary<string, double> { ["profile"] = 0, ["behaviour"] = 0, ["social"] = 1.0 },
            FriendAttributions = [new("ann", 0.5), new("bob", 0.04)],
        };
        Assert.Equal("Recommended mainly for your friends (100%): like user ann.", ExplanationText.ToSentence(social, userName: id => "user " + id));
    }

    [Fact]
    public void Sentence_DoesNotNameTheDomainsGenericWords()
    {
        // "films" did more than "Mystery" (deleting it turns "Mystery films" into "Mystery"), but everyone writes it.
        var words = new[] { W("films", 1.4), W("Mystery", 1.2), W("Film-Noir", 0.3), W("love", 0.2) };
        var generic = FromDescription("I love Film-Noir and Mystery films", words) is var e && e.Concept is { } c
            ? e with { Concept = c with { GenericWords = ["films", "Love"] } } : throw new InvalidOperationException();
        Assert.Equal("Recommended mainly for your description (75%): you asked for \"Mystery\" and \"Film-Noir\"; also what most people like (25%).",
            ExplanationText.ToSentence(generic));
        // Without the list, as before: "films" first.
        Assert.Equal("Recommended mainly for your description (75%): you asked for \"films\" and \"Mystery\"; also what most people like (25%).",
            ExplanationText.ToSentence(FromDescription("I love Film-Noir and Mystery films", words)));
        // Only generic words pushed the score up: no word is named.
        var onlyGeneric = generic with { Concept = generic.Concept! with { WordAttributions = [new("films", 0.9), new("Mystery", -0.2)] } };
        Assert.Equal("Recommended mainly for your description (75%); also what most people like (25%).", ExplanationText.ToSentence(onlyGeneric));
    }

    [Fact]
    public void Html_IsSelfContained_AndEscapesNames()
    {
        string html = ExplanationText.ToHtml("Top <10>", [Example()], id => id == "heat" ? "<script>alert(1)</script>" : id);
        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.Contains("<svg", html);
        Assert.DoesNotContain("<script>", html);
        Assert.Contains("&lt;script&gt;", html);
        Assert.DoesNotContain("src=", html);
        Assert.DoesNotContain("href=", html);
        Assert.Equal(2, html.Split("<svg").Length - 1); // shares, history; no friends or concept here
    }

    [Fact]
    public void Attributions_OfAFittedModel_AreFaithfulByTheDeletionTest()
    {
        var (split, r, _) = ConceptFixture.Fitted.Value;
        var users = Enumerable.Range(0, 80).Select(split.Train.Users.ToExternal).ToArray();
        var result = AttributionCheck.Deletion(r, users, remove: 3);
        Assert.True(result.Users >= 40, $"{result.Users} users tested");
        Assert.True(result.MeanDropTopAttributed > result.MeanDropRandom,
            $"top-attributed drop {result.MeanDropTopAttributed:F4} vs random {result.MeanDropRandom:F4}");
        Assert.True(result.ShareTopBeatsRandom > 0.5, $"{result.ShareTopBeatsRandom:P0}");
    }

    [Fact]
    public void FriendAndWordAttributions_PassTheirDeletionTests()
    {
        var (split, r, _) = ConceptFixture.Fitted.Value;
        var users = Enumerable.Range(0, 120).Select(split.Train.Users.ToExternal).ToArray();
        var friends = AttributionCheck.FriendDeletion(r, users, remove: 2);
        Assert.True(friends.Users >= 30, $"{friends.Users} users tested");
        Assert.True(friends.MeanDropTopAttributed > friends.MeanDropRandom,
            $"top-attributed friends {friends.MeanDropTopAttributed:F4} vs random {friends.MeanDropRandom:F4}");
        var described = users.Take(60).Select((u, i) => (u, i % 2 == 0 ? "likes mystery detective stories and haunted manors" : "loves pirate ships, treasure maps and jungle temples")).ToArray();
        var words = AttributionCheck.WordDeletion(r, described);
        Assert.True(words.Users >= 30, $"{words.Users} descriptions tested; drops {words.MeanDropTopAttributed:F4} {words.MeanDropRandom:F4}");
        Assert.True(words.MeanDropTopAttributed > words.MeanDropRandom,
            $"top-weighted word {words.MeanDropTopAttributed:F4} vs random word {words.MeanDropRandom:F4}");
    }

    [Fact]
    public void TextColdStartWordAttributions_PassTheirDeletionTest()
    {
        var (split, r, _) = ConceptFixture.Fitted.Value;
        var tastes = HierRec.Evaluation.TagDescriptions.Tastes(split.Train);
        var english = HierRec.Evaluation.TagDescriptions.English;
        var descriptions = tastes.Where(t => t is { Liked.Count: >= 2 }).Take(150)
            .Select((t, i) => string.Format(english[1 + i % 3].LikesOnly, t!.Liked[0], t.Liked[1])).ToArray(); // phrasings of four words or more
        var words = AttributionCheck.ColdWordDeletion(r, descriptions);
        Assert.True(words.Users >= 30, $"{words.Users} descriptions tested; drops {words.MeanDropTopAttributed:F4} {words.MeanDropRandom:F4}");
        Assert.True(words.MeanDropTopAttributed > words.MeanDropRandom,
            $"top-attributed words {words.MeanDropTopAttributed:F4} vs random words {words.MeanDropRandom:F4}");
    }

    [Fact]
    public void Explain_GivesLayerAttributions_HistoryAttributions_AndLeaveOneOutFriends()
    {
        var (split, r, _) = ConceptFixture.Fitted.Value;
        string user = split.Train.Users.ToExternal(2);
        var top = r.Recommend(user, 1)[0];
        var why = r.Explain(user, top.ItemId);
        // Rank is the position the user is shown; the catalogue rank counts seen items too.
        Assert.Equal(1, why.Rank);
        Assert.True(why.CatalogueRank >= why.Rank);
        var five = r.Recommend(user, 5);
        Assert.Equal(5, r.Explain(user, five[4].ItemId).Rank);
        const string description = "likes mystery, dislikes romance";
        var described = r.Recommend(user, description, 3);
        Assert.Equal(3, r.Explain(user, described[2].ItemId, description).Rank);
        string[] served = [.. r.Collaborative is null ? Array.Empty<string>() : ["collaborative"], .. r.FriendItems is null ? Array.Empty<string>() : ["friends' items"]];
        Assert.Equal(["profile", "behaviour", "social", .. served], why.LayerAttributions.Keys);
        Assert.Equal(r.Context.Histories[2].Distinct().Count(), why.HistoryAttributions.Count);
        Assert.Equal(why.HistoryAttributions.OrderByDescending(a => Math.Abs(a.Value)).Select(a => a.Id), why.HistoryAttributions.Select(a => a.Id));
        Assert.Equal(r.Context.Neighbours[2].Length, why.FriendAttributions.Count);
        // Leave-one-out is exact: serving the user as new with and without one friend differs by that friend's attribution
        // when nothing else differs (no history, no profile) but what the friends' items dimension adds, which the
        // explanations carry as their "friends' items" part.
        var profile = HierRec.Users.UserProfile.Empty;
        string f1 = split.Train.Users.ToExternal(r.Context.Neighbours[2][0]), f2 = split.Train.Users.ToExternal(r.Context.Neighbours[2][^1]);
        var both = r.ExplainForNewUser(profile, [f1, f2], [], top.ItemId);
        var without = r.ExplainForNewUser(profile, [f2], [], top.ItemId);
        double Lift(HierRec.Explanations.Explanation e) => e.LayerAttributions.GetValueOrDefault("friends' items");
        Assert.Equal(both.Score - without.Score, both.FriendAttributions.Single(a => a.Id == f1).Value + Lift(both) - Lift(without), 3);
        // Explaining leaves no gradients behind on the model.
        Assert.All(r.Model.parameters(), p => Assert.True(p.grad is null || p.grad.IsInvalid, "a parameter has a gradient after Explain"));
    }
}

using HierRec.Explanations;
using HierRec.Tests.Concepts;

namespace HierRec.Tests.Explanations;

public sealed class ExplanationTests
{
    private static Explanation Example() => new("u1", "i9", 4.2f, 0.125, 1,
        new Dictionary<string, double> { ["profile"] = 0.3, ["behaviour"] = 0.6, ["social"] = 0.1 },
        new Dictionary<string, double> { ["profile"] = 1.2, ["behaviour"] = 1.8, ["social"] = -0.4 },
        [new("heat", 0.9), new("se7en", 0.5), new("babe", -0.3)], [new("babe", 0.5), new("heat", 0.3), new("se7en", 0.2)],
        [], [], null);

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
    public void Explain_GivesLayerAttributions_HistoryAttributions_AndLeaveOneOutFriends()
    {
        var (split, r, _) = ConceptFixture.Fitted.Value;
        string user = split.Train.Users.ToExternal(2);
        var top = r.Recommend(user, 1)[0];
        var why = r.Explain(user, top.ItemId);
        Assert.Equal(["profile", "behaviour", "social"], why.LayerAttributions.Keys);
        Assert.Equal(r.Context.Histories[2].Distinct().Count(), why.HistoryAttributions.Count);
        Assert.Equal(why.HistoryAttributions.OrderByDescending(a => Math.Abs(a.Value)).Select(a => a.Id), why.HistoryAttributions.Select(a => a.Id));
        Assert.Equal(r.Context.Neighbours[2].Length, why.FriendAttributions.Count);
        // Leave-one-out is exact: serving the user as new with and without one friend differs by that friend's attribution
        // when nothing else differs (no history, no profile).
        var profile = HierRec.Users.UserProfile.Empty;
        string f1 = split.Train.Users.ToExternal(r.Context.Neighbours[2][0]), f2 = split.Train.Users.ToExternal(r.Context.Neighbours[2][^1]);
        var both = r.ExplainForNewUser(profile, [f1, f2], [], top.ItemId);
        var without = r.ExplainForNewUser(profile, [f2], [], top.ItemId);
        Assert.Equal(both.Score - without.Score, both.FriendAttributions.Single(a => a.Id == f1).Value, 3);
        // Explaining leaves no gradients behind on the model.
        Assert.All(r.Model.parameters(), p => Assert.True(p.grad is null || p.grad.IsInvalid, "a parameter has a gradient after Explain"));
    }
}

using HierRec.Data;
using HierRec.Fusion;
using HierRec.Text;
using HierRec.Training;

namespace HierRec.Tests.Fusion;

public sealed class FriendItemsTests() : TempFolderTests("hierrec-friends-")
{
    private static readonly Lazy<DataSplit> Split = new(TestData.SmallSynthetic);

    private static RecommenderOptions Options(FriendItemsOptions friendItems) => new()
    {
        Model = new HierarchicalOptions { Dimension = 16, Temperature = 0.5f },
        Training = new HierarchicalTrainingOptions { Epochs = 2, BatchSize = 32, LearningRate = 3e-3f },
        DomainBert = new DomainBertOptions { Epochs = 1, VocabularySize = 300, HiddenSize = 32, MaxLength = 16 },
        Collaborative = new CollaborativeOptions { Rank = 24, Lambdas = [100], Weights = [1f] },
        Sequential = new SequentialDimensionOptions { Enabled = false },
        FriendItems = friendItems,
    };

    // One candidate weight each (known users; newcomers with 0 and with 2+ items): served whatever validation says, so
    // serving, explaining and saving are exercised.
    private static readonly Lazy<HierarchicalRecommender> Fitted = new(() =>
        HierarchicalRecommender.Fit(Split.Value.Train, Split.Value.Validation, Options(new FriendItemsOptions { Weights = [0.4f], NewUserWeights = [0.8f], NewUserItems = [0, 2] })));

    [Fact]
    public void TheRow_CountsEachFriendOnce_AndTheLiftsAreRescaledToTheUsersSpread()
    {
        // Users 0..3; items 0..4. User 0's friends are 1 and 2: item 3 is in both histories, item 4 in one (twice).
        int[][] friends = [[1, 2], [0], [], [3]];
        int[][] histories = [[0], [3, 4, 4], [3], []];
        var rng = new Random(5);
        var e = Enumerable.Range(0, 5 * 4).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        var dimension = new FriendItemsDimension(friends, histories, e, 4, 0.5f);
        var (items, shares) = dimension.Row(0);
        Assert.Equal([3, 4], items);
        Assert.Equal([1f, 0.5f], shares);
        // w_u = γ_f σ_E(x) / σ(y): σ(y) over the 5 items of (0, 0, 0, 1, 0.5) is 0.4; σ_E is the spread of ⟨x, E_i⟩.
        float[] x = [0.3f, -1.2f, 0.7f, 0.1f];
        var own = Enumerable.Range(0, 5).Select(i => (double)System.Numerics.Tensors.TensorPrimitives.Dot(x, e.AsSpan(i * 4, 4))).ToArray();
        double mean = own.Average(), spreadE = Math.Sqrt(own.Select(s => (s - mean) * (s - mean)).Average());
        var (liftItems, lifts) = dimension.Lifts(0, x);
        Assert.Equal(items, liftItems);
        Assert.Equal(0.5 * spreadE / 0.4 * 1.0, lifts[0], 4);
        Assert.Equal(0.5 * spreadE / 0.4 * 0.5, lifts[1], 4);
        // Nothing for a user without friends, one whose friends chose nothing, or at γ_f = 0.
        Assert.Empty(dimension.Lifts(2, x).Items);
        Assert.Empty(dimension.Lifts(3, x).Items);
        Assert.False(dimension.Covers(3));
        Assert.Empty(dimension.WithWeight(0).Lifts(0, x).Items);
        var scores = new float[5];
        var added = dimension.AddTo(0, x, scores);
        Assert.Equal(lifts[0], scores[3]);
        Assert.Equal(0f, scores[0]);
        Assert.Equal(2, added.Items.Length);
        // A newcomer's friends, given as a list, are served as a known user's: friend 2 named twice counts once.
        var listed = dimension.Row([1, 2, 2]);
        Assert.Equal(items, listed.Items);
        Assert.Equal(shares, listed.Shares);
        Assert.Equal(lifts, dimension.Lifts([2, 1], x).Lifts);
        Assert.Equal([1, 2], dimension.Choosers([1, 2, 2], 3).Order());
        Assert.Empty(dimension.Lifts(Array.Empty<int>(), x).Items);
    }

    [Fact]
    public void BadArguments_AreNamed()
    {
        float[] e = new float[8];
        Assert.Throws<ArgumentOutOfRangeException>(() => new FriendItemsDimension([[]], [[]], e, 4, -1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FriendItemsDimension([[]], [[]], e, 4, 0f).WithWeight(float.NaN));
        Assert.Contains("2 friend lists for 1 users", Assert.Throws<ArgumentException>(() => new FriendItemsDimension([[], []], [[]], e, 4, 0f)).Message);
        Assert.Contains("FriendItemsOptions.Weights", Assert.ThrowsAny<ArgumentException>(() => new RecommenderOptions { FriendItems = new FriendItemsOptions { Weights = [] } }.Validate()).Message);
        Assert.Contains("FriendItemsOptions.NewUserWeights", Assert.ThrowsAny<ArgumentException>(() => new FriendItemsOptions { NewUserWeights = [float.PositiveInfinity] }.Validate()).Message);
        Assert.Contains("start at 0", Assert.ThrowsAny<ArgumentException>(() => new FriendItemsOptions { NewUserItems = [1, 2] }.Validate()).Message);
        Assert.Contains("ascend", Assert.ThrowsAny<ArgumentException>(() => new FriendItemsOptions { NewUserItems = [0, 5, 5] }.Validate()).Message);
        Assert.Contains("NewUserStandIns", Assert.ThrowsAny<ArgumentException>(() => new FriendItemsOptions { NewUserStandIns = 0 }.Validate()).Message);
        var d = new FriendItemsDimension([[]], [[]], e, 4, 0f);
        Assert.Throws<ArgumentOutOfRangeException>(() => d.Row(1));
        Assert.Throws<ArgumentException>(() => d.Lifts(0, new float[3]));
        Assert.Contains("Friend 1 is not one of the 1 known users", Assert.Throws<ArgumentOutOfRangeException>(() => d.Row([0, 7])).Message);
    }

    [Fact]
    public void ANewcomersFriends_BringTheirItems_AndExplainForNewUserAgreesWithTheList()
    {
        var split = Split.Value;
        var r = Fitted.Value;
        int u = Enumerable.Range(0, 60).First(v => r.FriendItems!.Covers(v) && r.FriendItems.Row(v).Items.Length >= 3);
        var friends = split.Train.FriendLists()[u];
        var friendIds = friends.Select(f => split.Train.Users.ToExternal(f)).ToArray();
        var profile = HierRec.Users.UserProfile.From(split.Train.UserFeatures, u);
        var withFriends = r.RecommendForNewUser(profile, friendIds, [], 10);
        var lifted = 0;
        for (int j = 0; j < withFriends.Count; j++)
        {
            var why = r.ExplainForNewUser(profile, friendIds, [], withFriends[j].ItemId);
            // Explain scores through its own path: it must place and score the item as the list did.
            Assert.Equal(j + 1, why.Rank);
            Assert.Equal(withFriends[j].Score, why.Score, 3);
            var choosers = friends.Where(f => r.Context.Histories[f].Contains(withFriends[j].ItemIndex)).Select(f => split.Train.Users.ToExternal(f)).Order().ToArray();
            double lift = why.LayerAttributions.GetValueOrDefault("friends' items");
            if (choosers.Length == 0)
            {
                Assert.Equal(0, lift);
                continue;
            }
            lifted++;
            Assert.True(lift > 0, $"item {withFriends[j].ItemId}, chosen by {choosers.Length} friends, has lift {lift}");
            var parts = Assert.IsAssignableFrom<IReadOnlyList<HierRec.Explanations.Attribution>>(why.FriendItemAttributions);
            Assert.Equal(choosers, parts.Select(a => a.Id).Order().ToArray());
            Assert.Equal(lift, parts.Sum(a => a.Value), 4);
        }
        Assert.True(lifted > 0, "some of the newcomer's top 10 were chosen by the friends");
        // Their weight is the newcomers' (one candidate, 0.8, per history length), not the known users' 0.4.
        Assert.Equal(new Dictionary<int, float> { [0] = 0.8f, [2] = 0.8f }, r.NewUserFriendItemsWeights);
        // Without friends the newcomer gets nothing from the dimension.
        var alone = r.RecommendForNewUser(profile, [], [], 10);
        Assert.All(alone, t => Assert.Equal(0, r.ExplainForNewUser(profile, [], [], t.ItemId).LayerAttributions.GetValueOrDefault("friends' items")));
    }

    [Fact]
    public void Recommend_AddsTheFriendsItemsExactly_AndExplainShowsWhoChoseIt()
    {
        var split = Split.Value;
        var r = Fitted.Value;
        Assert.Equal(0.4f, r.FriendItemsWeight);
        Assert.Equal(0.4f, r.FriendItemsReport!.Weight);
        Assert.Single(r.FriendItemsReport.WeightValidation);
        int served = 0;
        for (int u = 0; u < 30 && served < 3; u++)
        {
            string user = split.Train.Users.ToExternal(u);
            if (!r.FriendItems!.Covers(u)) continue;
            served++;
            var top = FusedServing.AssertRecommendIsBruteForce(r, user);
            // The served scores are the same fit's scores without the dimension plus the lifts.
            var all = r.IndexScores(user, r.ItemIds);
            var without = new float[r.ItemIds.Count];
            r.AsScoringModel(friendItems: false).ScoreUsers([u], without);
            var (items, lifts) = r.FriendItems.Lifts(u, r.HierarchicalUserVector(user));
            var expected = (float[])without.Clone();
            for (int k = 0; k < items.Length; k++) expected[items[k]] += lifts[k];
            for (int i = 0; i < all.Length; i++) Assert.Equal(expected[i], all[i], 3);
            var withFriends = new float[r.ItemIds.Count];
            r.AsScoringModel().ScoreUsers([u], withFriends);
            for (int i = 0; i < all.Length; i++) Assert.Equal(expected[i], withFriends[i], 3);
            // Explain: the lift is the dimension's part, split equally among the friends who chose the item.
            string liftedItem = r.ItemIds[items[Array.IndexOf(lifts, lifts.Max())]];
            var why = r.Explain(user, liftedItem);
            int item = Array.IndexOf(r.ItemIds.ToArray(), liftedItem);
            Assert.Equal(lifts.Max(), why.LayerAttributions["friends' items"], 4);
            var friendParts = Assert.IsAssignableFrom<IReadOnlyList<HierRec.Explanations.Attribution>>(why.FriendItemAttributions);
            Assert.Equal(why.LayerAttributions["friends' items"], friendParts.Sum(a => a.Value), 4);
            Assert.All(friendParts, a => Assert.Contains(item, r.Context.Histories[split.Train.Users.TryGetDense(a.Id, out int f) ? f : -1]));
            Assert.Equal(all[item], why.Score, 3);
            var firstWhy = r.Explain(user, top[0].ItemId);
            Assert.Equal(1, firstWhy.Rank);
            Assert.Equal(top[0].Score, firstWhy.Score, 3);
        }
        Assert.Equal(3, served);
    }

    [Fact]
    public void TheNewcomersWeights_AreChosenPerHistoryLength_OnStandIns_AsTheArgmax()
    {
        var split = Split.Value;
        var r = HierarchicalRecommender.Fit(split.Train, split.Validation, Options(new FriendItemsOptions { Weights = [0f], NewUserWeights = [0f, 0.1f, 10f], NewUserItems = [0, 3], NewUserStandIns = 40 }));
        var report = r.FriendItemsReport!;
        Assert.Null(r.FriendItems); // γ_f = 0 for known users does not switch the newcomers' side off
        Assert.Equal([0, 3], report.NewUserValidation.Keys.Order());
        foreach (var (n, grid) in report.NewUserValidation)
        {
            Assert.Equal([0f, 0.1f, 10f], grid.Keys.Order());
            Assert.All(grid.Values, v => Assert.InRange(v, 0, 1));
            Assert.Equal(grid.MaxBy(p => p.Value).Key, report.NewUserWeights[n]);
        }
        Assert.Equal(report.NewUserWeights, r.NewUserFriendItemsWeights);
        // A newcomer with 5 items is served at the weight for 3 (the largest length ≤ 5).
        int u = Enumerable.Range(0, 60).First(v => split.Train.FriendLists()[v].Length > 0);
        var friendIds = split.Train.FriendLists()[u].Select(f => split.Train.Users.ToExternal(f)).ToArray();
        var recent = r.Context.Histories[u].Take(5).Select(i => r.ItemIds[i]).ToArray();
        var top = r.RecommendForNewUser(HierRec.Users.UserProfile.Empty, friendIds, recent, 1)[0];
        var why = r.ExplainForNewUser(HierRec.Users.UserProfile.Empty, friendIds, recent, top.ItemId);
        Assert.Equal(1, why.Rank);
        Assert.Equal(top.Score, why.Score, 3);
        Assert.Equal(report.NewUserWeights[3] > 0, why.LayerAttributions.ContainsKey("friends' items"));
    }

    [Fact]
    public void TheSentence_NamesTheFriendsWhoChoseTheItem()
    {
        var r = Fitted.Value;
        var why = Enumerable.Range(0, 40).Where(u => r.FriendItems!.Covers(u)).Select(u => r.UserIds[u])
            .SelectMany(user => r.Recommend(user, 10).Select(t => r.Explain(user, t.ItemId)))
            .First(e => e.ScoreShares.GetValueOrDefault("friends' items") > 0.005);
        var sentence = HierRec.Explanations.ExplanationText.ToSentence(why, userName: id => "friend " + id);
        Assert.Contains("what your friends chose", sentence);
        Assert.Contains("like friend " + why.FriendItemAttributions![0].Id, sentence);
    }

    [Fact]
    public void SaveLoad_ServesTheSame_AndABadWeightIsNamed()
    {
        var split = Split.Value;
        var r = Fitted.Value;
        string folder = Path.Combine(Dir, "model");
        r.Save(folder);
        var loaded = HierarchicalRecommender.Load(folder);
        Assert.Equal(r.FriendItemsWeight, loaded.FriendItemsWeight);
        Assert.Equal(r.NewUserFriendItemsWeights, loaded.NewUserFriendItemsWeights);
        var someone = split.Train.FriendLists().First(f => f.Length > 0).Select(f => split.Train.Users.ToExternal(f)).ToArray();
        Assert.Equal(r.RecommendForNewUser(HierRec.Users.UserProfile.Empty, someone, [], 10).Select(t => t.ItemId), loaded.RecommendForNewUser(HierRec.Users.UserProfile.Empty, someone, [], 10).Select(t => t.ItemId));
        FusedServing.AssertServesTheSame(r, loaded, split.Train);
        string user = split.Train.Users.ToExternal(Enumerable.Range(0, 40).First(u => r.FriendItems!.Covers(u)));
        var (before, after) = (r.IndexScores(user, r.ItemIds), loaded.IndexScores(user, loaded.ItemIds));
        for (int i = 0; i < before.Length; i++) Assert.Equal(before[i], after[i], 1e-3 * Math.Max(1, Math.Abs(before[i])));
        string manifest = Path.Combine(folder, "recommender.json");
        var json = File.ReadAllText(manifest);
        var weight = System.Text.RegularExpressions.Regex.Match(json, "\"FriendItems\":\\s*\\{\\s*\"Weight\":\\s*[0-9.eE+-]+");
        Assert.True(weight.Success, "recommender.json holds FriendItems.Weight");
        File.WriteAllText(manifest, json.Replace(weight.Value, "\"FriendItems\": { \"Weight\": -1"));
        HierRec.Serialization.FolderChecksums.Write(folder);
        Assert.Contains("FriendItems.Weight", Assert.Throws<InvalidDataException>(() => HierarchicalRecommender.Load(folder)).Message);
        var newUsers = System.Text.RegularExpressions.Regex.Match(json, "\"NewUserFriendItems\":\\s*\\[\\s*\\{\\s*\"Items\":\\s*0,\\s*\"Weight\":\\s*[0-9.eE+-]+");
        Assert.True(newUsers.Success, "recommender.json holds NewUserFriendItems");
        File.WriteAllText(manifest, json.Replace(newUsers.Value, newUsers.Value[..newUsers.Value.LastIndexOf(':')] + ": -2"));
        HierRec.Serialization.FolderChecksums.Write(folder);
        Assert.Contains("NewUserFriendItems[0].Weight", Assert.Throws<InvalidDataException>(() => HierarchicalRecommender.Load(folder)).Message);
    }

    [Fact]
    public void TheDimensionIsOff_AndSaysWhy_WithoutSocialEdges_AndIsNotServedWithoutValidation()
    {
        var walks = TestData.Walks(1, timestamps: false);
        var options = Options(new FriendItemsOptions()) with { Training = new HierarchicalTrainingOptions { Epochs = 1 } };
        var alone = HierarchicalRecommender.Fit(walks.Train, walks.Validation, options);
        Assert.Null(alone.FriendItems);
        Assert.Contains("no social edges", alone.DisabledLayers["friends' items"]);
        var split = Split.Value;
        var blind = HierarchicalRecommender.Fit(split.Train, null, options);
        Assert.Null(blind.FriendItems);
        Assert.Equal(0f, blind.FriendItemsReport!.Weight);
        Assert.Empty(blind.FriendItemsReport.WeightValidation);
    }
}

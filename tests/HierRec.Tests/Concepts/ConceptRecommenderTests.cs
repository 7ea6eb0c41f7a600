using HierRec.Concepts;
using HierRec.Data;
using HierRec.Evaluation;
using HierRec.Text;
using HierRec.Training;

namespace HierRec.Tests.Concepts;

/// <summary>A small synthetic recommender with concepts fitted on tag-derived descriptions, shared by the tests.</summary>
internal static class ConceptFixture
{
    public static readonly Lazy<(DataSplit Split, HierarchicalRecommender Recommender, ConceptReport Report)> Fitted = new(() =>
    {
        var data = Splits.Deduplicate(Splits.ToImplicit(SyntheticDataset.Generate(new SyntheticOptions { Users = 240, Items = 240 })));
        var split = Splits.RandomRatioPerUser(data, 0.8, 0.1, 0.1, seed: 5);
        var recommender = HierarchicalRecommender.Fit(split.Train, split.Validation, new RecommenderOptions
        {
            Model = new HierarchicalOptions { Dimension = 16, MaxFriends = 8 },
            Training = new HierarchicalTrainingOptions { Epochs = 6, BatchSize = 32, LearningRate = 5e-3f },
            DomainBert = new DomainBertOptions { Epochs = 1, VocabularySize = 400, HiddenSize = 32, MaxLength = 24 },
        });
        var tastes = TagDescriptions.Tastes(split.Train);
        var descriptions = Enumerable.Range(0, data.UserCount).Where(u => tastes[u] is not null)
            .ToDictionary(u => split.Train.Users.ToExternal(u), u => TagDescriptions.Phrasings(tastes[u]!));
        var report = recommender.FitConcepts(split.Train, split.Validation, descriptions, new ConceptOptions
        {
            InterestEpochs = 4, AlignmentEpochs = 8, BatchSize = 64, LearningRate = 5e-3f,
            DomainBert = new DomainBertOptions { Epochs = 2, VocabularySize = 500, HiddenSize = 32, MaxLength = 24 },
        });
        return (split, recommender, report);
    });
}

public sealed class ConceptRecommenderTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "hierrec-concepts-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    /// <summary>Runs <paramref name="restore"/> at the end of the test's scope: the shared fixture's settings a test changed go back.</summary>
    private static Restorer Restoring(Action restore) => new(restore);

    private sealed class Restorer(Action restore) : IDisposable
    {
        public void Dispose() => restore();
    }

    [Fact]
    public void Describe_GivesBothSides_WithTokenWeightsThatSumToOne()
    {
        var (_, r, _) = ConceptFixture.Fitted.Value;
        foreach (var text in new[] { "likes mystery and adventure, dislikes romance", "喜欢悬疑和冒险电影，讨厌爱情电影" })
        {
            var c = r.Describe(text);
            Assert.NotNull(c.Positive);
            Assert.NotNull(c.Negative);
            Assert.Equal(16, c.Positive!.Length);
            Assert.InRange(c.PositiveTokens.Sum(t => t.Weight), 0.5, 1 + 1e-4);
            Assert.InRange(c.NegativeTokens.Sum(t => t.Weight), 0.5, 1 + 1e-4);
            // Words of the text as written: no special tokens, no WordPiece pieces, no punctuation.
            foreach (var t in c.PositiveTokens.Concat(c.NegativeTokens))
            {
                Assert.Contains(t.Token, text);
                Assert.DoesNotContain("##", t.Token);
                Assert.DoesNotContain(t.Token, new[] { "[CLS]", "[SEP]", ",", "，", "[UNK]" });
            }
        }
    }

    [Fact]
    public void HostileDescriptions_AByteSwappedBomIsHarmless_AndOverLongOnesAreRefusedByName()
    {
        var (split, r, _) = ConceptFixture.Fitted.Value;
        string user = split.Train.Users.ToExternal(0);
        // U+FFFE once made String.Normalize throw inside the tokenizer, failing Describe and Recommend.
        Assert.NotNull(r.Describe("likes mystery\uFFFE, dislikes romance").Positive);
        Assert.NotEmpty(r.Recommend(user, "likes \uFFFEmystery", 5));
        string huge = string.Concat(Enumerable.Repeat("[SEP]", 200_000));
        var ex = Assert.Throws<ArgumentException>(() => r.Recommend(user, huge, 5));
        Assert.Equal("description", ex.ParamName);
        Assert.Contains("4,096", ex.Message);
        Assert.Throws<ArgumentException>(() => r.RecommendFromDescription(huge));
        var fit = Assert.Throws<ArgumentException>(() => r.FitConcepts(split.Train, null, new Dictionary<string, IReadOnlyList<string>> { [user] = ["fine", huge] }));
        Assert.Contains($"descriptions[\"{user}\"][1]", fit.Message);
    }

    [Fact]
    public void Recommend_WithADescription_ReturnsOnlyItemsTheFilterKeeps_AndNeverSeenOnes()
    {
        var (split, r, _) = ConceptFixture.Fitted.Value;
        string text = "likes mystery, hates romance";
        var concept = r.Describe(text);
        var strict = r.Concepts!.Filter(concept, positiveThreshold: 0f, negativeThreshold: 0.2f);
        Assert.True(strict.IsActive);
        r.Concepts.PositiveThreshold = 0f;
        r.Concepts.NegativeThreshold = 0.2f;
        using var restore = Restoring(() => (r.Concepts.PositiveThreshold, r.Concepts.NegativeThreshold) = (ConceptFixture.Fitted.Value.Report.PositiveThreshold, ConceptFixture.Fitted.Value.Report.NegativeThreshold));
        for (int u = 0; u < 20; u++)
        {
            string user = split.Train.Users.ToExternal(u);
            var seen = r.Context.Histories[u].ToHashSet();
            var top = r.Recommend(user, text, 10);
            Assert.All(top, t => Assert.True(strict.Allows(t.ItemIndex)));
            Assert.DoesNotContain(top, t => seen.Contains(t.ItemIndex));
        }
    }

    [Fact]
    public void TextColdStart_FavoursTheDescribedCategory_OverTheRejectedOne()
    {
        var (split, r, _) = ConceptFixture.Fitted.Value;
        var genres = split.Train.ItemFeatures.Tags("genres");
        double Share(IReadOnlyList<Recommendation> top, string category) => top.Count(t => genres[t.ItemIndex].Contains(category)) / (double)top.Count;
        foreach (var (text, wanted, rejected) in new[] { ("likes mystery, dislikes romance", "mystery", "romance"), ("喜欢冒险电影，讨厌科学电影", "adventure", "science") })
        {
            var top = r.RecommendFromDescription(text, 20);
            var cv = r.Describe(text);
            var f = r.Concepts!.Filter(cv);
            Assert.True(20 == top.Count, $"θ {r.Concepts.PositiveThreshold} θ⁻ {r.Concepts.NegativeThreshold}; allowed {Enumerable.Range(0, 240).Count(f.Allows)}; pos sims {string.Join(",", Enumerable.Range(0, 10).Select(i => f.PositiveSimilarity(i).ToString("F2")))}; neg {string.Join(",", Enumerable.Range(0, 10).Select(i => f.NegativeSimilarity(i).ToString("F2")))}");
            Assert.True(Share(top, wanted) > Share(top, rejected), $"{text}: {Share(top, wanted):P0} wanted vs {Share(top, rejected):P0} rejected");
        }
    }

    [Fact]
    public void ExplainFromDescription_AgreesWithTheTextColdStartRanking_AndItsPartsSumToTheScore()
    {
        var (_, r, _) = ConceptFixture.Fitted.Value;
        var concepts = r.Concepts!;
        float savedWeight = concepts.ColdWordSteeringWeight, savedBeta = concepts.ColdSteeringWeight;
        int savedNeighbours = concepts.ColdNeighbours;
        using var restore = Restoring(() => (concepts.ColdWordSteeringWeight, concepts.ColdSteeringWeight, concepts.ColdNeighbours) = (savedWeight, savedBeta, savedNeighbours));
        concepts.ColdNeighbours = 0; // the steered x_∅ (like-minded users: the next test)
        const string text = "likes mystery, dislikes romance";
        var named = concepts.Named(r.Describe(text));
        foreach (var (beta, wordWeight) in new[] { (savedBeta, savedWeight), (0.5f, 1f), (float.PositiveInfinity, 2f) })
        {
            (concepts.ColdSteeringWeight, concepts.ColdWordSteeringWeight) = (beta, wordWeight);
            var top = r.RecommendFromDescription(text, 10);
            for (int j = 0; j < top.Count; j++)
            {
                var why = r.ExplainFromDescription(text, top[j].ItemId);
                Assert.Equal(j + 1, why.Rank);
                Assert.Equal(top[j].Score, why.Score, 4);
                Assert.Equal(top[j].Probability, why.Probability, 5);
                Assert.Equal(why.Score, why.LayerAttributions["popular"] + why.LayerAttributions["concept"], 4);
                Assert.True(why.Concept!.PassesFilter);
                Assert.Equal(why.LayerAttributions["concept"], why.Concept.SteeringScore, 6);
                Assert.Equal(wordWeight > 0 && named.Contains(top[j].ItemIndex), why.Concept.WordBonus > 0);
                if (float.IsPositiveInfinity(beta)) Assert.Equal(0, why.LayerAttributions["popular"]); // the description alone ranks
                Assert.Empty(why.HistoryAttributions);
                Assert.Empty(why.LayerContributions);
            }
        }
        // A word the items' text names carries word steering's lift in its attribution: deleting it deletes the lift.
        (concepts.ColdSteeringWeight, concepts.ColdWordSteeringWeight) = (0.5f, 2f);
        var hit = r.RecommendFromDescription("likes mystery", 10).First(t => named.Contains(t.ItemIndex));
        var on = r.ExplainFromDescription("likes mystery", hit.ItemId);
        concepts.ColdWordSteeringWeight = 0;
        var off = r.ExplainFromDescription("likes mystery", hit.ItemId);
        Assert.True(on.Concept!.WordBonus > 0);
        Assert.Equal(on.Concept.WordBonus, on.Concept.WordAttributions!.Single(w => w.Token == "mystery").Weight - off.Concept!.WordAttributions!.Single(w => w.Token == "mystery").Weight, 3);
        Assert.Contains("your description", HierRec.Explanations.ExplanationText.ToSentence(on));
        Assert.Throws<KeyNotFoundException>(() => r.ExplainFromDescription(text, "no such item"));
    }

    [Fact]
    public void GenericWords_AreTheTemplatesFillers_NeverATaste_AndExplanationsCarryThem()
    {
        var (split, r, _) = ConceptFixture.Fitted.Value;
        var generic = r.Concepts!.GenericWords;
        // Every described user's phrasings say "films", "movies" and "and"; each names two of the tastes.
        Assert.Contains("films", generic);
        Assert.Contains("movies", generic);
        var liked = TagDescriptions.Tastes(split.Train).Where(t => t is not null).SelectMany(t => t!.Liked).Distinct().ToArray();
        Assert.NotEmpty(liked);
        foreach (var tag in liked) Assert.DoesNotContain(tag.ToLowerInvariant(), generic);
        string text = $"I love {liked[0]} films";
        var top = r.RecommendFromDescription(text, 1)[0];
        Assert.Equal(["films"], r.ExplainFromDescription(text, top.ItemId).Concept!.GenericWords!.Where(w => w != "I" && w != "love"));
        Assert.Contains("films", r.Explain(split.Train.Users.ToExternal(0), r.Recommend(split.Train.Users.ToExternal(0), text, 1)[0].ItemId, text).Concept!.GenericWords!);
    }

    [Fact]
    public void Explain_WithADescription_ReportsTheConcept_AndTheSteeringPartOfTheScore()
    {
        var (split, r, _) = ConceptFixture.Fitted.Value;
        string user = split.Train.Users.ToExternal(3), text = "likes adventure";
        var top = r.Recommend(user, text, 3);
        var why = r.Explain(user, top[0].ItemId, text);
        Assert.Equal(top[0].Score, why.Score, 3);
        Assert.NotNull(why.Concept);
        Assert.Equal(why.Score - r.Explain(user, top[0].ItemId).Score, why.LayerAttributions["concept"], 3);
        Assert.Equal(why.Concept!.SteeringScore, why.LayerAttributions["concept"], 6);
        Assert.True(why.Concept.PassesFilter);
        Assert.Contains(why.Concept.PositiveTokens, t => t.Token == "adventure");
    }

    [Fact]
    public void WordSteering_LiftsTheItemsWhoseTextNamesTheDescription_AndExplainAgreesWithRecommend()
    {
        var (split, r, _) = ConceptFixture.Fitted.Value;
        var concepts = r.Concepts!;
        string text = "likes mystery, dislikes romance";
        var concept = r.Describe(text);
        var named = concepts.Named(concept);
        var genres = split.Train.ItemFeatures.Tags("genres");
        Assert.NotEmpty(named);
        // Items named by "mystery" (titles may say it too), none by the rejected clause's "romance" alone.
        Assert.True(named.Count(i => genres[i].Contains("mystery")) >= 0.8 * named.Count, $"{named.Count(i => genres[i].Contains("mystery"))} of {named.Count} named items are tagged mystery");
        Assert.Equal(named.Order(), concepts.Named(r.Describe("喜欢悬疑电影")).Order()); // the glossary reads 悬疑 as "mystery suspense"
        Assert.Empty(concepts.Named(r.Describe("喜欢那个导演")));               // no glossary entry, no Chinese item text: nothing named
        float saved = concepts.WordSteeringWeight;
        using var restore = Restoring(() => concepts.WordSteeringWeight = saved);
        double Share(float weight)
        {
            concepts.WordSteeringWeight = weight;
            return Enumerable.Range(0, 30).Average(u => r.Recommend(split.Train.Users.ToExternal(u), text, 10).Count(t => named.Contains(t.ItemIndex)) / 10.0);
        }
        double off = Share(0), on = Share(3);
        Assert.True(on > off, $"named items' share of the top 10: {on:P0} with β_w 3, {off:P0} without");

        // The lifted ranking is exact: Explain's score, rank and concept part agree with what Recommend served.
        string user = split.Train.Users.ToExternal(4);
        var top = r.Recommend(user, text, 10);
        for (int j = 0; j < top.Count; j++)
        {
            var why = r.Explain(user, top[j].ItemId, text);
            Assert.Equal(j + 1, why.Rank);
            Assert.Equal(top[j].Score, why.Score, 3);
            Assert.Equal(top[j].Probability, why.Probability, 4);
            Assert.Equal(named.Contains(top[j].ItemIndex), why.Concept!.WordBonus > 0);
            Assert.Equal(why.Score - r.Explain(user, top[j].ItemId).Score, why.LayerAttributions["concept"], 3);
        }
        // The bonus is β_w standard deviations of the user's scores: at 0 the ranking is the index's own.
        concepts.WordSteeringWeight = 0;
        var query = concepts.Steer(r.HierarchicalUserVector(user), concept);
        Assert.Equal(r.HierarchicalIndex.Rank(query, 10), concepts.Rank(r.HierarchicalIndex, query, concept, 10));
    }

    [Fact]
    public void AChineseWord_ThatTheGlossaryReads_CarriesTheWordSteeringBonusInItsAttribution()
    {
        var (split, r, _) = ConceptFixture.Fitted.Value;
        var concepts = r.Concepts!;
        float saved = concepts.WordSteeringWeight;
        using var restore = Restoring(() => concepts.WordSteeringWeight = saved);
        const string text = "喜欢悬疑电影";
        string user = split.Train.Users.ToExternal(6);
        var named = concepts.Named(r.Describe(text));
        Assert.NotEmpty(named);                                                   // 悬疑 → "mystery suspense"
        concepts.WordSteeringWeight = 2;
        var top = r.Recommend(user, text, 10);
        var hit = top.First(t => named.Contains(t.ItemIndex));                     // at β_w 2 named items lead
        var on = r.Explain(user, hit.ItemId, text);
        Assert.True(on.Concept!.WordBonus > 0);
        var word = Assert.Single(on.Concept.WordAttributions!, w => w.Token.Contains("悬疑"));
        concepts.WordSteeringWeight = 0;
        var off = r.Explain(user, hit.ItemId, text);
        var wordOff = Assert.Single(off.Concept!.WordAttributions!, w => w.Token.Contains("悬疑"));
        Assert.Equal(on.Concept.WordBonus, word.Weight - wordOff.Weight, 3);        // deleting the word deletes its lift
    }

    [Fact]
    public void WithTheSimilarityFilterOff_ARejectionRemovesWhatItsWordsName_AndOtherwiseFallsBack()
    {
        var (_, r, _) = ConceptFixture.Fitted.Value;
        var c = r.Concepts!;
        var saved = (c.NegativeThreshold, c.NegativeFallbackThreshold);
        using var restore = Restoring(() => (c.NegativeThreshold, c.NegativeFallbackThreshold) = saved);
        c.NegativeThreshold = float.PositiveInfinity;
        c.NegativeFallbackThreshold = 0.3f;
        var english = c.Filter(r.Describe("dislikes romance"));
        Assert.True(english.RejectedByText > 0);                      // the item texts name "romance": the guard alone
        Assert.True(float.IsPositiveInfinity(english.NegativeThreshold));
        var glossed = c.Filter(r.Describe("讨厌爱情电影"));             // the glossary reads 爱情 as "romance romantic"
        Assert.Equal(english.RejectedByText, glossed.RejectedByText);
        Assert.True(float.IsPositiveInfinity(glossed.NegativeThreshold));
        var chinese = c.Filter(r.Describe("讨厌那个导演"));
        Assert.Equal(0, chinese.RejectedByText);                     // no item text names it: the fallback θ⁻
        Assert.Equal(0.3f, chinese.NegativeThreshold);
        Assert.True(chinese.IsActive);
        Assert.True(float.IsPositiveInfinity(c.Filter(r.Describe("讨厌那个导演"), negativeThreshold: float.PositiveInfinity).NegativeThreshold)); // an explicit θ⁻ is kept
        c.NegativeFallbackThreshold = float.PositiveInfinity;
        Assert.False(c.Filter(r.Describe("讨厌那个导演")).IsActive);
    }

    [Fact]
    public void RecommendByInterest_RanksByTheSelfSupervisedInterest()
    {
        var (split, r, _) = ConceptFixture.Fitted.Value;
        string user = split.Train.Users.ToExternal(4);
        var interest = r.Concepts!.InterestOf(r.Context.Histories[4]);
        var top = r.RecommendByInterest(user, k: 5);
        Assert.Equal(5, top.Count);
        Assert.DoesNotContain(top, t => r.Context.Histories[4].Contains(t.ItemIndex));
        foreach (var t in top)
            Assert.Equal(System.Numerics.Tensors.TensorPrimitives.Dot(interest, r.Index.GetVector(t.ItemIndex).AsSpan(0, interest.Length)), t.Score, 3); // E_i leads the served row
        Assert.NotEqual(r.Recommend(user, 5).Select(x => x.ItemId), top.Select(x => x.ItemId));
    }

    /// <summary>An independent reading of ConceptModel.NeighbourScores: Σ cos(C⁺, D_v) over the k most similar describers v of each item.</summary>
    private static (int User, double Similarity)[] Nearest(HierarchicalRecommender r, ConceptVector concept, int exclude)
    {
        var rows = r.Concepts!.DescriptionVectors!;
        int d = r.Concepts.Dimension;
        var q = concept.Positive!;
        double norm = Math.Sqrt(q.Sum(x => (double)x * x));
        return Enumerable.Range(0, rows.Length / d).Where(v => v != exclude)
            .Select(v => (v, s: Enumerable.Range(0, d).Sum(j => (double)rows[v * d + j] * q[j]) / norm))
            .Where(t => t.s > 0).OrderByDescending(t => t.s).ThenBy(t => t.v).ToArray();
    }

    /// <summary>The least k ≥ <paramref name="atLeast"/> whose k-th and (k + 1)-th most similar describers differ by more than rounding.</summary>
    private static int UntiedK(HierarchicalRecommender r, ConceptVector concept, int atLeast, int exclude = -1)
    {
        var near = Nearest(r, concept, exclude);
        int k = atLeast;
        while (k < near.Length && near[k - 1].Similarity - near[k].Similarity < 1e-4) k++;
        return k;
    }

    private static double[] LikeMinded(HierarchicalRecommender r, ConceptVector concept, int k, int exclude = -1)
    {
        var near = Nearest(r, concept, exclude).Take(k);
        var scores = new double[r.ItemIds.Count];
        foreach (var (v, sim) in near) foreach (int i in r.Context.Histories[v]) scores[i] += sim;
        return scores;
    }

    /// <summary>
    /// A described user's row counts as described whatever the sign of its largest value (TensorPrimitives.MaxMagnitude
    /// returns that value signed; reading it as "> 0" left out the rows led by a negative value: on one MovieLens-100K
    /// fit 834 of 849 describers, which capped calibration's k at 14).
    /// </summary>
    [Fact]
    public void EveryNonZeroDescriptionRow_CountsAsDescribed_WhateverTheSignOfItsLargestValue()
    {
        var (_, r, _) = ConceptFixture.Fitted.Value;
        var concepts = r.Concepts!;
        var saved = concepts.DescriptionVectors!;
        using var restore = Restoring(() => concepts.DescriptionVectors = saved);
        int d = concepts.Dimension;
        var all = Enumerable.Range(0, concepts.DescribedUserRows).ToArray();
        var nonZero = all.Where(u => saved.AsSpan(u * d, d).ContainsAnyExcept(0f)).ToArray();
        Assert.NotEmpty(nonZero);
        // -D_u is as much a unit description vector as D_u; negated, every row is led by a negative value where the
        // fitted rows here happen to be led by positive ones.
        concepts.DescriptionVectors = saved.Select(x => -x).ToArray();
        Assert.All(nonZero, u => Assert.True(System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(concepts.DescriptionVectors.AsSpan(u * d, d)) < 0));
        Assert.All(nonZero, u => Assert.True(concepts.IsDescribed(u), $"user {u}'s row is not counted as described"));
        Assert.All(all.Except(nonZero), u => Assert.False(concepts.IsDescribed(u)));
    }

    [Fact]
    public void LikeMindedUsers_ServeWhatTheMostSimilarDescribersChose_AndExplainIt()
    {
        var (_, r, _) = ConceptFixture.Fitted.Value;
        var concepts = r.Concepts!;
        (int savedK, float savedWeight) = (concepts.ColdNeighbours, concepts.ColdWordSteeringWeight);
        using var restore = Restoring(() => (concepts.ColdNeighbours, concepts.ColdWordSteeringWeight) = (savedK, savedWeight));
        Assert.Equal(r.Context.Histories.Count, concepts.DescribedUserRows);
        const string text = "likes mystery and adventure, dislikes romance";
        var concept = r.Describe(text);
        var histories = r.Context.Histories;

        // The scores are the like-minded users' weighted counts (the tie-break stays below 10⁻³), k and exclusion honoured.
        // Users with the same templated description tie; float and double break a tie at the k-th place differently.
        int k = UntiedK(r, concept, 25);
        var scores = concepts.NeighbourScores(concept, histories, k)!;
        var expected = LikeMinded(r, concept, k);
        for (int i = 0; i < scores.Length; i++) Assert.InRange(scores[i] - expected[i], -1e-4, 1e-3);
        Assert.Contains(expected, x => x > 0);
        int nearest = Enumerable.Range(0, concepts.DescribedUserRows)
            .MaxBy(v => System.Numerics.Tensors.TensorPrimitives.Dot(concepts.DescriptionVectors.AsSpan(v * concepts.Dimension, concepts.Dimension), concept.Positive));
        int kWithout = UntiedK(r, concept, 25, nearest);
        var without = concepts.NeighbourScores(concept, histories, kWithout, exclude: nearest)!;
        var expectedWithout = LikeMinded(r, concept, kWithout, nearest);
        for (int i = 0; i < without.Length; i++) Assert.InRange(without[i] - expectedWithout[i], -1e-4, 1e-3);
        Assert.NotEqual(scores, without);
        Assert.Null(concepts.NeighbourScores(concept, histories, 0));
        Assert.Null(concepts.NeighbourScores(r.Describe("dislikes romance"), histories, 25)); // no positive side
        Assert.Throws<ArgumentException>(() => concepts.NeighbourScores(concept, histories.Take(3).ToArray(), 25));

        // Serving and explaining on that path: the ranking is the scores' (word lift and filter applied), and each
        // explanation's "like-minded" and "concept" parts sum to its score.
        foreach (float w in new[] { 0f, 1f })
        {
            (concepts.ColdNeighbours, concepts.ColdWordSteeringWeight) = (25, w);
            var top = r.RecommendFromDescription(text, 10);
            Assert.Equal(10, top.Count);
            var filter = concepts.Filter(concept);
            var lifted = concepts.NeighbourScores(concept, histories)!;
            ConceptModel.Lift(lifted, w > 0 ? concepts.Named(concept) : [], w);
            var best = Enumerable.Range(0, lifted.Length).Where(i => !filter.IsActive || filter.Allows(i)).OrderByDescending(i => lifted[i]).ThenBy(i => i).Take(10);
            Assert.Equal(best, top.Select(t => t.ItemIndex));
            for (int j = 0; j < top.Count; j++)
            {
                var why = r.ExplainFromDescription(text, top[j].ItemId);
                Assert.Equal(j + 1, why.Rank);
                Assert.Equal(top[j].Score, why.Score, 4);
                Assert.Equal(lifted[top[j].ItemIndex], why.Score, 4);
                // P(i|description) is the item's share of the like-minded scores over the whole catalogue (not a
                // softmax of counts, which put ~97 % on the first item), and the explanation reports the same.
                Assert.Equal(lifted[top[j].ItemIndex] / lifted.Sum(s => (double)s), top[j].Probability, 6);
                Assert.Equal(top[j].Probability, why.Probability, 6);
                Assert.False(why.LayerAttributions.ContainsKey("popular"));
                Assert.Equal(why.Score, why.LayerAttributions["like-minded"] + why.LayerAttributions["concept"], 4);
                Assert.Equal(why.Concept!.WordBonus, why.LayerAttributions["concept"], 4);
            }
            Assert.Contains("describe their taste as you do", HierRec.Explanations.ExplanationText.ToSentence(r.ExplainFromDescription(text, top[0].ItemId)));
            // The whole catalogue's shares sum to 1 (the filter hides items from the list, not from the total).
            var all = r.RecommendFromDescription(text, r.ItemIds.Count);
            Assert.InRange(all.Sum(x => x.Probability), 0.5, 1 + 1e-6);
            Assert.True(top[0].Probability < 0.5, $"the first item's share is {top[0].Probability:P2}");
        }
        // A description with rejections only is served by the steered x_∅, as before.
        (concepts.ColdNeighbours, concepts.ColdWordSteeringWeight) = (25, 0);
        Assert.True(r.ExplainFromDescription("dislikes romance", r.RecommendFromDescription("dislikes romance", 1)[0].ItemId).LayerAttributions.ContainsKey("popular"));
    }

    [Fact]
    public void Calibration_ReportsTheLikeMindedTrials_AndUsesThemOnlyWhenTheyBeatTheSteeredVector()
    {
        var (_, r, report) = ConceptFixture.Fitted.Value;
        var trials = report.ColdNeighbourTrials!;
        Assert.Equal(0, trials[0].Neighbours);
        Assert.All(trials.Skip(1), t => Assert.InRange(t.Neighbours, 1, r.Context.Histories.Count - 1));
        Assert.Equal(ConceptTrainer.WordWeights.Length * trials.Skip(1).Select(t => t.Neighbours).Distinct().Count(), trials.Count - 1);
        var best = trials.Skip(1).MaxBy(t => t.Ndcg);
        if (best.Ndcg > trials[0].Ndcg)
        {
            Assert.Equal(best.Neighbours, report.ColdNeighbours);
            Assert.Equal(best.Word, report.ColdWordSteeringWeight);
            Assert.Equal(best.Ndcg, report.ColdValidationNdcg);
        }
        else Assert.Equal(0, report.ColdNeighbours);
        Assert.Equal(report.ColdNeighbours, r.Concepts!.ColdNeighbours);
    }

    [Fact]
    public void SaveLoad_KeepsTheConceptModel()
    {
        var (split, r, _) = ConceptFixture.Fitted.Value;
        int savedK = r.Concepts!.ColdNeighbours;
        using var restore = Restoring(() => r.Concepts.ColdNeighbours = savedK);
        r.Concepts.ColdNeighbours = 25; // saved and served by like-minded users, whatever calibration chose
        string folder = Path.Combine(_dir, "rec");
        r.Save(folder);
        Assert.True(File.Exists(Path.Combine(folder, "concepts", "concept.safetensors")));
        var loaded = HierarchicalRecommender.Load(folder);
        Assert.NotNull(loaded.Concepts);
        Assert.Equal(r.Concepts!.SteeringWeight, loaded.Concepts!.SteeringWeight);
        Assert.Equal(r.Concepts.PositiveThreshold, loaded.Concepts.PositiveThreshold);
        Assert.Equal(r.Concepts.WordSteeringWeight, loaded.Concepts.WordSteeringWeight);
        Assert.Equal(r.Concepts.ColdWordSteeringWeight, loaded.Concepts.ColdWordSteeringWeight);
        Assert.Equal(r.Concepts.NegativeFallbackThreshold, loaded.Concepts.NegativeFallbackThreshold);
        Assert.Equal(r.Concepts.ColdNeighbours, loaded.Concepts.ColdNeighbours);
        Assert.Equal(r.Concepts.DescriptionVectors, loaded.Concepts.DescriptionVectors);
        Assert.NotEmpty(r.Concepts.GenericWords);
        Assert.Equal(r.Concepts.GenericWords.Order(StringComparer.Ordinal), loaded.Concepts.GenericWords.Order(StringComparer.Ordinal));
        string user = split.Train.Users.ToExternal(1), text = "喜欢悬疑电影，讨厌爱情电影";
        Assert.Equal(r.Recommend(user, text, 10).Select(x => x.ItemId), loaded.Recommend(user, text, 10).Select(x => x.ItemId));
        Assert.Equal(r.RecommendFromDescription(text, 10).Select(x => x.ItemId), loaded.RecommendFromDescription(text, 10).Select(x => x.ItemId));
        Assert.Equal(r.Describe(text).Positive, loaded.Describe(text).Positive);

        Assert.Equal(r.Concepts.Encoder.Parser.Cues.Glossary, loaded.Concepts.Encoder.Parser.Cues.Glossary);

        // A folder saved before the glossary (its cues without one) loads with the default glossary.
        string manifest = Path.Combine(folder, "concepts", "concept.json");
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(manifest))!;
        Assert.True(json["Cues"]!.AsObject().Remove("Glossary"));
        File.WriteAllText(manifest, json.ToJsonString());
        HierRec.Serialization.FolderChecksums.Write(Path.Combine(folder, "concepts"));
        HierRec.Serialization.FolderChecksums.Write(folder);
        Assert.True(json.AsObject().Remove("GenericWords"));
        File.WriteAllText(manifest, json.ToJsonString());
        HierRec.Serialization.FolderChecksums.Write(Path.Combine(folder, "concepts"));
        HierRec.Serialization.FolderChecksums.Write(folder);
        var older = HierarchicalRecommender.Load(folder);
        Assert.Equal(ConceptCues.DefaultGlossary.Count, older.Concepts!.Encoder.Parser.Cues.Glossary.Count);
        Assert.Empty(older.Concepts.GenericWords); // saved before they were kept: none, the sentence names as before
        Assert.Equal(r.Recommend(user, text, 10).Select(x => x.ItemId), older.Recommend(user, text, 10).Select(x => x.ItemId));

        // A k of like-minded users out of range is refused by name.
        string saved = File.ReadAllText(manifest);
        var bad = System.Text.Json.Nodes.JsonNode.Parse(saved)!;
        bad["ColdNeighbours"] = -3;
        File.WriteAllText(manifest, bad.ToJsonString());
        HierRec.Serialization.FolderChecksums.Write(Path.Combine(folder, "concepts"));
        HierRec.Serialization.FolderChecksums.Write(folder);
        Assert.Contains("ColdNeighbours", Assert.Throws<InvalidDataException>(() => HierarchicalRecommender.Load(folder)).Message);
        bad = System.Text.Json.Nodes.JsonNode.Parse(saved)!;
        bad["GenericWords"] = new System.Text.Json.Nodes.JsonArray("films", " ");
        File.WriteAllText(manifest, bad.ToJsonString());
        HierRec.Serialization.FolderChecksums.Write(Path.Combine(folder, "concepts"));
        HierRec.Serialization.FolderChecksums.Write(folder);
        Assert.Contains("GenericWords[1]", Assert.Throws<InvalidDataException>(() => HierarchicalRecommender.Load(folder)).Message);
        File.WriteAllText(manifest, saved);

        // A concept folder written before the port is refused, not half-loaded.
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace($"\"Version\":{ConceptModel.FormatVersion}", "\"Version\":1"));
        // Re-sealed, so the checksums pass and the version check is what refuses it.
        HierRec.Serialization.FolderChecksums.Write(Path.Combine(folder, "concepts"));
        HierRec.Serialization.FolderChecksums.Write(folder);
        Assert.Contains("before HierRec moved to TorchSharp", Assert.Throws<InvalidDataException>(() => HierarchicalRecommender.Load(folder)).Message);
    }

    [Fact]
    public void AnOptionOutOfRangeOrNaN_IsRefusedByName()
    {
        var (split, r, _) = ConceptFixture.Fitted.Value;
        var copy = HierarchicalRecommender.Load(SaveTo(r, "tolerance"));
        foreach (var bad in new[] { -0.1, 1.0, double.NaN })
            Assert.Equal("PositiveFilterTolerance", Assert.Throws<ArgumentOutOfRangeException>(() => copy.FitConcepts(split.Train, split.Validation,
                new Dictionary<string, IReadOnlyList<string>>(), new ConceptOptions { PositiveFilterTolerance = bad })).ParamName);
        // NaN used to pass the range checks of every floating-point option.
        foreach (var (name, options) in new (string, ConceptOptions)[]
        {
            ("FilterTolerance", new() { FilterTolerance = double.NaN }), ("LearningRate", new() { LearningRate = float.NaN }),
            ("MaskShare", new() { MaskShare = double.NaN }), ("SteeringWeight", new() { SteeringWeight = float.NaN }),
            ("ColdNeighbours", new() { ColdNeighbours = -1 }), ("InterestRefinementEpochs", new() { InterestRefinementEpochs = -1 }),
        })
            Assert.Equal(name, Assert.Throws<ArgumentOutOfRangeException>(() => copy.FitConcepts(split.Train, split.Validation, new Dictionary<string, IReadOnlyList<string>>(), options)).ParamName);
    }

    [Fact]
    public void Training_ReportsThePhases_AndChoosesThresholdsOnValidation()
    {
        var (_, _, report) = ConceptFixture.Fitted.Value;
        Assert.InRange(report.InterestEpochs, 1, 4);
        Assert.InRange(report.AlignmentEpochs, 1, 8);
        Assert.False(double.IsNaN(report.InterestValidationNdcg));
        Assert.False(double.IsNaN(report.UnfilteredValidationNdcg));
        Assert.Contains(report.SteeringWeight, new[] { 0f, 0.1f, 0.2f, 0.35f, 0.5f, 0.75f, 1f });
        Assert.Contains(report.WordSteeringWeight, ConceptTrainer.WordWeights);
        Assert.Contains(report.ColdWordSteeringWeight, ConceptTrainer.WordWeights);
        Assert.NotNull(report.Bert);
    }

    [Fact]
    public void WithoutValidation_ConceptsTrainEveryEpoch_AndKeepTheDefaultThresholds()
    {
        var (split, r, _) = ConceptFixture.Fitted.Value;
        var copy = HierarchicalRecommender.Load(SaveTo(r, "novalidation"));
        var descriptions = new Dictionary<string, IReadOnlyList<string>>
        {
            [split.Train.Users.ToExternal(0)] = ["likes mystery"], [split.Train.Users.ToExternal(1)] = ["喜欢冒险电影"], [split.Train.Users.ToExternal(2)] = ["likes romance, hates science"],
        };
        var report = copy.FitConcepts(split.Train, null, descriptions, new ConceptOptions
        {
            InterestEpochs = 2, AlignmentEpochs = 3, BatchSize = 64, Bert = r.Concepts!.Encoder.Bert,
        });
        Assert.Equal(2, report.InterestEpochs);
        Assert.Equal(3, report.AlignmentEpochs);
        Assert.True(double.IsNaN(report.InterestValidationNdcg));
        Assert.Equal(0f, report.SteeringWeight);
        Assert.Equal(float.NegativeInfinity, report.PositiveThreshold);
        Assert.Equal(0.5f, report.NegativeThreshold);
        Assert.Null(report.Bert); // the given BERT was used, none pre-trained
        Assert.Equal(10, copy.RecommendFromDescription("likes mystery", 10).Count);
    }

    [Fact]
    public void TheTokenCache_IsBounded_AndDoesNotChangeResults()
    {
        var (_, r, _) = ConceptFixture.Fitted.Value;
        using var g = HierRec.Tests.Modules.T.Gen(3);
        using var encoder = new ConceptEncoder(r.Concepts!.Encoder.Bert, 16, g) { CacheCapacity = 2 };
        encoder.eval();
        string[] texts = ["mystery", "romance", "science", "adventure", "mystery"];
        float[] first, second;
        using (TorchSharp.torch.no_grad())
        {
            first = HierRec.Tests.Modules.T.Values(encoder.Encode(texts));
            second = HierRec.Tests.Modules.T.Values(encoder.Encode(texts));
        }
        Assert.Equal(first, second);
        Assert.Equal(2, encoder.CachedTexts);
    }

    private string SaveTo(HierarchicalRecommender r, string name)
    {
        string folder = Path.Combine(_dir, name);
        r.Save(folder);
        return folder;
    }

    [Fact]
    public void Concepts_AreRequired_AndUnknownUsersRejected()
    {
        var (split, r, _) = ConceptFixture.Fitted.Value;
        Assert.Throws<KeyNotFoundException>(() => r.FitConcepts(split.Train, null, new Dictionary<string, IReadOnlyList<string>> { ["nobody"] = ["likes x"] }));
    }

    [Fact]
    public void TagDescriptions_AreDerivedFromTrainingTags_AndParseBack()
    {
        var (split, _, _) = ConceptFixture.Fitted.Value;
        var tastes = TagDescriptions.Tastes(split.Train);
        var parser = new DescriptionParser();
        var genres = split.Train.ItemFeatures.Tags("genres");
        int checkedUsers = 0;
        for (int u = 0; u < tastes.Length; u++)
        {
            if (tastes[u] is not { Disliked: not null } taste) continue;
            // The disliked tag is rare in the user's training items, the liked ones common.
            var items = split.Train.Interactions.Where(x => x.User == u).Select(x => x.Item).ToArray();
            Assert.True(items.Count(i => genres[i].Contains(taste.Disliked)) < items.Count(i => genres[i].Contains(taste.Liked[0])));
            var phrasings = TagDescriptions.Phrasings(taste);
            Assert.Equal(7, phrasings.Count);
            foreach (var text in phrasings.Take(4))
            {
                var (pos, neg) = parser.SplitByPolarity(text);
                Assert.Contains(taste.Liked[0], pos);
                Assert.Contains(taste.Disliked, neg);
                Assert.DoesNotContain(taste.Disliked, pos);
            }
            checkedUsers++;
        }
        Assert.True(checkedUsers > 10);
    }
}

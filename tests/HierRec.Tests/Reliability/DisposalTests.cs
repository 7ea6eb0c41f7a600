using HierRec.Tests.Concepts;
using HierRec.Users;

namespace HierRec.Tests.Reliability;

/// <summary>
/// A recommender frees its native memory on Dispose (the GC does not, for libtorch modules), and afterwards refuses
/// work by name instead of touching freed memory.
/// </summary>
public sealed class DisposalTests() : TempFolderTests("hierrec-dispose-")
{
    [Fact]
    public void ADisposedRecommender_RefusesEveryModelOperation_AndDisposingTwiceIsHarmless()
    {
        var (split, _, template) = HostileFolder.Saved.Value;
        var r = HierarchicalRecommender.Load(template);
        string user = split.Train.Users.ToExternal(2), item = r.ItemIds[0];
        Assert.NotEmpty(r.Recommend(user, 3));
        Assert.False(r.IsDisposed);
        r.Dispose();
        Assert.True(r.IsDisposed);
        Assert.True(r.Model.parameters().All(p => p.IsInvalid)); // the tensors are gone, not waiting for a GC
        Assert.Throws<ObjectDisposedException>(() => r.Recommend(user, 3));
        Assert.Throws<ObjectDisposedException>(() => r.UserVector(user));
        Assert.Throws<ObjectDisposedException>(() => r.Explain(user, item));
        Assert.Throws<ObjectDisposedException>(() => r.RecommendForNewUser(UserProfile.Empty, [], [item], 3));
        Assert.Throws<ObjectDisposedException>(() => r.Save(Path.Combine(Dir, "never")));
        Assert.False(Directory.Exists(Path.Combine(Dir, "never")));
        Assert.True(r.HasUser(user)); // plain lookups still answer
        r.Dispose();
        // Another load of the same folder is unaffected.
        using var again = HierarchicalRecommender.Load(template);
        Assert.NotEmpty(again.Recommend(user, 3));
    }

    /// <summary>
    /// A TorchSharp tensor that is not disposed is freed later on the GC's finalizer thread; when it was a temporary that
    /// a native call was still using, that corrupts libtorch's heap (reloading a model 200 times crashed 1 run in 3
    /// before every temporary of loading was scoped). So loading, serving and disposing leave no tensor behind.
    /// </summary>
    [Fact]
    public void LoadingServingAndDisposing_LeaveNoTensorForTheFinalizer()
    {
        var (split, _, template) = HostileFolder.Saved.Value;
        string user = split.Train.Users.ToExternal(2);
        using (var warm = HierarchicalRecommender.Load(template)) warm.Recommend(user, 3); // lazy statics
        var stats = TorchSharp.DisposeScopeManager.Statistics.TensorStatistics;
        long before = stats.ThreadTotalLiveCount;
        var r = HierarchicalRecommender.Load(template);
        Assert.True(stats.ThreadTotalLiveCount > before); // the model's tensors, owned by the recommender
        Assert.NotEmpty(r.Recommend(user, 3));
        Assert.NotEmpty(r.Recommend(split.Train.Users.ToExternal(3), 3));
        Assert.NotEmpty(r.RecommendForNewUser(UserProfile.Empty, [], [r.ItemIds[0]], 3));
        r.Explain(user, r.ItemIds[1]);
        r.Dispose();
        Assert.Equal(before, stats.ThreadTotalLiveCount);
    }

    [Fact]
    public void DisposingARecommenderWithConcepts_FreesTheConceptModel_AndTextColdStartRefuses()
    {
        var (_, fitted, _) = ConceptFixture.Fitted.Value;
        fitted.Save(Dir);
        var r = HierarchicalRecommender.Load(Dir);
        Assert.NotEmpty(r.RecommendFromDescription("likes mystery", 3));
        r.Dispose();
        Assert.True(r.Concepts!.Encoder.parameters().All(p => p.IsInvalid));
        Assert.Throws<ObjectDisposedException>(() => r.RecommendFromDescription("likes mystery", 3));
        Assert.Throws<ObjectDisposedException>(() => r.Describe("likes mystery"));
        Assert.False(fitted.IsDisposed);
        Assert.NotEmpty(fitted.RecommendFromDescription("likes mystery", 3)); // the saved-from recommender is its own
    }

    [Fact]
    public void TheConceptPaths_LeaveNoTensorForTheFinalizer()
    {
        var (split, fitted, _) = ConceptFixture.Fitted.Value;
        fitted.Save(Dir);
        string user = split.Train.Users.ToExternal(1);
        using (var warm = HierarchicalRecommender.Load(Dir)) warm.RecommendFromDescription("likes mystery", 3);
        var stats = TorchSharp.DisposeScopeManager.Statistics.TensorStatistics;
        long before = stats.ThreadTotalLiveCount;
        var r = HierarchicalRecommender.Load(Dir);
        var top = r.RecommendFromDescription("likes mystery, dislikes romance", 3);
        r.ExplainFromDescription("likes mystery, dislikes romance", top[0].ItemId);
        var steered = r.Recommend(user, "喜欢悬疑电影，讨厌爱情电影", 3);
        r.Explain(user, steered[0].ItemId, "喜欢悬疑电影，讨厌爱情电影");
        r.RecommendByInterest(user, k: 3);
        r.Dispose();
        Assert.Equal(before, stats.ThreadTotalLiveCount);
    }
}

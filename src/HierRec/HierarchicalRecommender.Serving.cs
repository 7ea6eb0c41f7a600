using System.Diagnostics;
using HierRec.Concepts;
using HierRec.Diagnostics;
using HierRec.Ranking;
using HierRec.Users;
using TorchSharp;
using static TorchSharp.torch;

namespace HierRec;

/// <summary>Serving: top-k for known and new users through the ranker, and the user vectors behind it.</summary>
public sealed partial class HierarchicalRecommender
{
    /// <summary>The top <paramref name="k"/> items for a known user, excluding items the user has interacted with.</summary>
    /// <exception cref="KeyNotFoundException">Unknown user id.</exception>
    public IReadOnlyList<Recommendation> Recommend(string userId, int k = 10)
    {
        using var activity = HierRecTelemetry.ActivitySource.StartActivity("HierRec.Recommend");
        long start = Stopwatch.GetTimestamp();
        int u = KnownUser(userId, "use RecommendForNewUser for users outside the training data");
        var query = UserVectors([u])[0];
        start = HierRecTelemetry.Stage("recommend", "encode", start);
        var result = RankQuery(query, _context.Histories[u], k, null, knownUser: u);
        HierRecTelemetry.Stage("recommend", "rank", start);
        return result;
    }

    /// <summary>
    /// Cold start: recommendations for a user outside the training data, from a profile, friends who are known users,
    /// and recently interacted items (most recent first); any of them may be empty. Unknown ids are an error. The
    /// friends (the first <see cref="HierarchicalOptions.MaxFriends"/>) feed the social layer and the friends' items
    /// dimension, at the weight chosen for newcomers with that many items (<see cref="NewUserFriendItemsWeights"/>).
    /// </summary>
    public IReadOnlyList<Recommendation> RecommendForNewUser(UserProfile profile, IReadOnlyList<string> friendIds, IReadOnlyList<string> recentItemIds, int k = 10)
    {
        using var activity = HierRecTelemetry.ActivitySource.StartActivity("HierRec.RecommendNewUser");
        long start = Stopwatch.GetTimestamp();
        var batch = NewUserBatch(profile, friendIds, recentItemIds, out var history);
        var query = Vectors(batch)[0];
        start = HierRecTelemetry.Stage("recommend_new_user", "encode", start);
        var result = RankQuery(query, history, k, null, friends: batch.Neighbours[0], newUser: true);
        HierRecTelemetry.Stage("recommend_new_user", "rank", start);
        return result;
    }

    /// <summary>
    /// The query the ranker scores a known user's items with (<see cref="Index"/>): the fused user vector x_u, followed by
    /// the weighted collaborative factors w_u c_u when the collaborative dimension is served (width <see cref="Dimension"/>).
    /// The friends' items dimension is not a dot product and is not in it (see <see cref="IndexScores"/>).
    /// </summary>
    public float[] UserVector(string userId)
    {
        int u = KnownUser(userId, null);
        var x = UserVectors([u])[0];
        return _fusion is null ? (float[])x.Clone() : Compose(x, _context.Histories[u], knownUser: u);
    }

    /// <summary>The hierarchical model's fused user vector x_u of a known user (D wide, without the collaborative part).</summary>
    internal float[] HierarchicalUserVector(string userId) => (float[])UserVectors([KnownUser(userId, null)])[0].Clone();

    private int KnownUser(string userId, string? hint)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(userId);
        return _users.TryGetDense(userId, out int d) ? d : throw new KeyNotFoundException($"Unknown user '{userId}'" + (hint is null ? "." : $"; {hint}."));
    }

    private UserBatch NewUserBatch(UserProfile profile, IReadOnlyList<string> friendIds, IReadOnlyList<string> recentItemIds, out int[] history)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(friendIds);
        ArgumentNullException.ThrowIfNull(recentItemIds);
        history = recentItemIds.Select(i => _items.TryGetDense(i, out int d) ? d : throw new KeyNotFoundException($"Unknown item '{i}' in recentItemIds.")).ToArray();
        var friends = friendIds.Select(f => _users.TryGetDense(f, out int d) ? d : throw new KeyNotFoundException($"Unknown friend '{f}'; friends must be known users.")).Take(_model.Options.MaxFriends).ToArray();
        return new UserBatch([profile], [history], [friends], _context.Hops is null ? null : [friends.Select(_ => 1).ToArray()]);
    }

    /// <summary>x_u of a batch, without gradients, as CPU arrays.</summary>
    private float[][] Vectors(UserBatch batch)
    {
        ThrowIfDisposed();
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var x = _model.Encode(batch, _itemVectors).Users;
        return Rows(x);
    }

    private static float[][] Rows(Tensor x) => TorchInterop.ToRows(x);

    /// <summary>⟨x_u, E_i⟩ for a known user whose friends are <paramref name="friends"/> (for deletion tests).</summary>
    internal float ScoreWithFriends(int user, int[] friends, int item)
    {
        int dim = _model.Options.Dimension;
        var batch = _context.Batch([user]);
        batch = batch with { Neighbours = [friends], Hops = batch.Hops is null ? null : [friends.Select(f => batch.Hops[0][Array.IndexOf(batch.Neighbours[0], f)]).ToArray()] };
        return Dot(Vectors(batch)[0], _itemArray.AsSpan(item * dim, dim));
    }

    /// <summary>⟨x_u, E_i⟩ for a known user whose history is replaced by <paramref name="history"/> (for deletion tests).</summary>
    internal float ScoreWithHistory(int user, int[] history, int item)
    {
        int dim = _model.Options.Dimension;
        return Dot(UserVectorsWithHistories([user], [history])[0], _itemArray.AsSpan(item * dim, dim));
    }

    /// <summary>
    /// The top <paramref name="k"/> for known user <paramref name="user"/> (dense) as this recommender serves them, on the
    /// observed <paramref name="history"/> (most recent first; excluded) instead of the training one: x_u encoded from it,
    /// fused with the collaborative and sequential dimensions of that history, and with the user's friends' items.
    /// </summary>
    internal Recommendation[] RecommendWithHistory(int user, int[] history, int k)
    {
        var x = UserVectorsWithHistories([user], [history])[0];
        return RankQuery(x, history, k, null, spreadOf: x, friends: FriendItemsFriends(user));
    }

    /// <summary>
    /// x_u of known users (dense indices), without gradients, in batches of 256; encoded with <paramref name="histories"/>
    /// (most recent first) instead of their training histories when given. The one path every user vector takes.
    /// </summary>
    internal float[][] UserVectorsWithHistories(int[] users, int[][]? histories)
    {
        var result = new float[users.Length][];
        for (int s = 0; s < users.Length; s += 256)
        {
            int n = Math.Min(256, users.Length - s);
            var batch = _context.Batch(users.AsSpan(s, n).ToArray());
            if (histories is not null) batch = batch with { Histories = histories.AsSpan(s, n).ToArray() };
            Vectors(batch).CopyTo(result, s);
        }
        return result;
    }

    /// <summary>
    /// The fused user vectors x_u of known users (dense indices), without gradients. The model and the training
    /// histories are fixed after Fit or Load, so each known user's vector is computed once and kept (a benign race:
    /// two threads may both compute it, with the same result).
    /// </summary>
    internal float[][] UserVectors(int[] users)
    {
        var result = new float[users.Length][];
        var missing = new List<int>();
        for (int i = 0; i < users.Length; i++)
        {
            if ((uint)users[i] >= (uint)_knownVectors.Length) throw new ArgumentOutOfRangeException(nameof(users), users[i], "Not a known user.");
            if (Volatile.Read(ref _knownVectors[users[i]]) is { } hit) result[i] = hit;
            else missing.Add(i);
        }
        if (missing.Count == 0) return result;
        var computed = UserVectorsWithHistories(missing.Select(i => users[i]).ToArray(), null);
        for (int j = 0; j < missing.Count; j++)
        {
            result[missing[j]] = computed[j];
            Volatile.Write(ref _knownVectors[users[missing[j]]], computed[j]);
        }
        return result;
    }

    private float[]?[] _knownVectors = [];

    /// <summary>x_∅: the fused vector of a user with no profile, friends or history.</summary>
    private float[] EmptyUserVector() => _emptyUser ??= Vectors(new UserBatch([UserProfile.Empty], [Array.Empty<int>()], [Array.Empty<int>()]))[0]; // the model is fixed after Fit or Load

    private float[]? _emptyUser;

    /// <summary>
    /// Ranks for hierarchical query <paramref name="query"/> (D wide) of a user whose history is <paramref name="seen"/>
    /// (excluded): fused with the collaborative dimension (w_u from <paramref name="spreadOf"/>, the user's own vector when
    /// the query is steered), or, when <paramref name="fused"/> is false, against the hierarchical item vectors alone.
    /// </summary>
    /// <remarks>
    /// With <paramref name="concept"/>, the items its words name (in the caller's held <paramref name="concepts"/>) are lifted by word steering at <paramref name="wordWeight"/>
    /// (<see cref="ConceptModel.Rank"/>). The friends' items dimension, when served, adds what <paramref name="friends"/>
    /// chose (by default <paramref name="knownUser"/>'s first-hop friends), at a newcomer's weight for the history's
    /// length when <paramref name="newUser"/>.
    /// </remarks>
    private Recommendation[] RankQuery(float[] query, int[] seen, int k, ItemFilter? extra, float[]? spreadOf = null, bool fused = true, int knownUser = -1,
        ConceptModel? concepts = null, ConceptVector? concept = null, float wordWeight = 0, IReadOnlyList<int>? friends = null, bool newUser = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        var index = fused ? _served : _index;
        var own = spreadOf ?? query;
        if (fused) query = Compose(query, seen, spreadOf, knownUser);
        ItemFilter? filter = seen.Length > 0 ? ItemFilter.Exclude(seen) : null;
        if (extra is ConceptFilter { IsActive: false }) extra = null;
        if (extra is not null) filter = filter is null ? extra : ItemFilter.All(filter, extra);
        var serving = _model.Scorer.Serving;
        var options = new RankOptions { Filter = filter, Temperature = serving.Temperature };
        // Word steering and the friends' items add to a few items' scores: score the catalogue, add them, take the top k.
        IReadOnlyCollection<int> named = concept is not null && wordWeight > 0 ? (concepts ?? throw new ArgumentNullException(nameof(concepts))).Named(concept) : [];
        friends ??= FriendItemsFriends(knownUser);
        var friendItems = !fused || friends is null ? null : newUser ? NewUserFriendItems(seen.Length) : _friendItems;
        RankedItem[] ranked;
        if (named.Count == 0 && friendItems is null) ranked = index.Rank(query, k, options);
        else
        {
            var scores = new float[index.Count];
            index.Score(query, scores);
            ConceptModel.Lift(scores, named, wordWeight);
            AddFriendItems(friendItems, friends, own, scores);
            ranked = ScoreStatistics.Top(scores, k, options);
        }
        HierRecTelemetry.Scored("rank", index.Count);
        return ranked.Select(r => new Recommendation(_items.ToExternal(r.ItemIndex), r.ItemIndex, serving.Transform?.Invoke(r.Score) ?? r.Score, r.Probability)).ToArray();
    }

    private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => System.Numerics.Tensors.TensorPrimitives.Dot(a, b);
}

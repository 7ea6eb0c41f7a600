using HierRec.Data;
using HierRec.Evaluation;
using HierRec.Fusion;
using HierRec.Ranking;
using HierRec.Users;

namespace HierRec;

/// <summary>
/// The friends' items dimension (<see cref="FriendItemsDimension"/>): what a known user's first-hop friends chose, added
/// to the served scores with a weight chosen on validation after the other dimensions'.
/// </summary>
public sealed partial class HierarchicalRecommender
{
    private FriendItemsDimension? _friendItems;

    // The newcomers' side: the dimension at weight 1 and, per history length (ascending, the first 0), the weight chosen.
    private FriendItemsDimension? _newUserFriendItems;
    private (int Items, float Weight)[] _newUserFriendItemWeights = [];

    /// <summary>
    /// The weight of a new user's friends' items by the number of items the newcomer brings: a newcomer with n items gets
    /// the weight of the largest key ≤ n (empty: newcomers do not get the dimension).
    /// </summary>
    public IReadOnlyDictionary<int, float> NewUserFriendItemsWeights => _newUserFriendItemWeights.ToDictionary(p => p.Items, p => p.Weight);

    /// <summary>The dimension at the weight a newcomer with <paramref name="items"/> items is served with, or null (none, or 0).</summary>
    private FriendItemsDimension? NewUserFriendItems(int items)
    {
        if (_newUserFriendItems is null) return null;
        float weight = 0;
        foreach (var (n, w) in _newUserFriendItemWeights)
            if (n <= items) weight = w;
        return weight > 0 ? _newUserFriendItems.WithWeight(weight) : null;
    }

    /// <summary>Serves newcomers at <paramref name="weights"/>, over <paramref name="unit"/> when Fit has built the dimension already (Load builds it).</summary>
    private void AttachNewUserFriendItems((int Items, float Weight)[] weights, FriendItemsDimension? unit = null)
    {
        _newUserFriendItemWeights = weights;
        _newUserFriendItems = weights.Any(p => p.Weight > 0) ? unit?.WithWeight(1f) ?? NewFriendItems(1f) : null;
    }

    /// <summary>The friends' items dimension served to known users, or null (off, no social edges, or γ_f = 0 chosen; newcomers: <see cref="NewUserFriendItemsWeights"/>).</summary>
    public FriendItemsDimension? FriendItems => _friendItems;

    /// <summary>γ_f, the friends' items dimension's weight (0 without it).</summary>
    public float FriendItemsWeight => _friendItems?.Weight ?? 0f;

    /// <summary>What Fit measured while choosing γ_f, or null (off, or after Load).</summary>
    public FriendItemsReport? FriendItemsReport { get; private set; }

    /// <summary>
    /// Known users' served scores with (<paramref name="friendItems"/> true: <see cref="AsScoringModel()"/>) or without
    /// the friends' items dimension (the same fit's other dimensions as served: an ablation of this one).
    /// </summary>
    public IScoringModel AsScoringModel(bool friendItems) => new ServedScoring(this, friendItems: friendItems ? _friendItems : null, friendItemsGiven: true);

    /// <summary>Each known user's first-hop friends (all of them when the context holds no hops).</summary>
    private int[][] FirstHopFriends() => Enumerable.Range(0, _context.Neighbours.Count)
        .Select(u => _context.Hops is null ? _context.Neighbours[u] : _context.Neighbours[u].Where((_, j) => _context.Hops[u][j] == 1).ToArray()).ToArray();

    /// <summary>A dimension over the known users' friends and training histories at weight <paramref name="weight"/> (Σ_E shared with the fusion).</summary>
    private FriendItemsDimension NewFriendItems(float weight) =>
        new(FirstHopFriends(), _context.Histories, _itemArray, _model.Options.Dimension, weight, _fusion?.CovarianceE);

    /// <summary>
    /// Chooses γ_f by the served model's validation NDCG@10 (the other dimensions as attached) and attaches the dimension
    /// when a positive γ_f wins; without validation it is not served.
    /// </summary>
    private void FitFriendItems(Dataset train, Dataset? validation, FriendItemsOptions options, ulong seed, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        if (validation is null)
        {
            FriendItemsReport = new FriendItemsReport(0f, new Dictionary<float, double>(), new Dictionary<int, float>(), new Dictionary<int, IReadOnlyDictionary<float, double>>());
            return;
        }
        var evaluator = new Evaluator { Ks = [10] };
        var dimension = NewFriendItems(0f);
        var scores = new Dictionary<float, double>();
        float chosen = 0;
        double best = double.NegativeInfinity;
        foreach (float g in options.Weights)
        {
            cancellationToken.ThrowIfCancellationRequested();
            progress?.Report(TrainingProgress.PhaseStarted("friends' items dimension", $"weight γ_f = {g}"));
            double v = evaluator.Evaluate(new ServedScoring(this, friendItems: g > 0 ? dimension.WithWeight(g) : null, friendItemsGiven: true), validation, train)["ndcg@10"];
            scores[g] = v;
            if (v > best) (chosen, best) = (g, v);
        }
        if (chosen > 0) _friendItems = dimension.WithWeight(chosen);
        var unit = dimension.WithWeight(1f);
        var (newWeights, newValidation) = FitNewUserFriendItems(validation, unit, options, seed, progress, cancellationToken);
        AttachNewUserFriendItems(newWeights, unit);
        FriendItemsReport = new FriendItemsReport(chosen, scores, newWeights.ToDictionary(p => p.Items, p => p.Weight), newValidation);
    }

    /// <summary>
    /// Chooses the newcomers' weights (<see cref="FriendItemsOptions.NewUserWeights"/>) per history length on stand-in
    /// newcomers: validation users with a friend who has items, encoded through the new-user path (profile, first-hop
    /// friends, their most recent training items; no learnt user embedding), ranked with their training items
    /// excluded and judged by NDCG@10 on their validation items. The lifts are linear in the weight, so each stand-in is
    /// encoded and scored once and every weight re-ranks the same row.
    /// </summary>
    private ((int Items, float Weight)[] Weights, Dictionary<int, IReadOnlyDictionary<float, double>> Validation) FitNewUserFriendItems(
        Dataset validation, FriendItemsDimension unit, FriendItemsOptions options, ulong seed, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        var relevant = new Dictionary<int, HashSet<int>>();
        foreach (var x in validation.Interactions)
        {
            if ((uint)x.User >= (uint)_context.Histories.Count || (uint)x.Item >= (uint)_items.Count) continue;
            if (!relevant.TryGetValue(x.User, out var set)) relevant[x.User] = set = [];
            set.Add(x.Item);
        }
        var candidates = relevant.Keys.Where(unit.Covers).Order().ToArray();
        new Rng(seed ^ 0x5EED_F12E_0D5UL).Shuffle(candidates.AsSpan());
        var weights = new List<(int Items, float Weight)>();
        var report = new Dictionary<int, IReadOnlyDictionary<float, double>>();
        foreach (int n in options.NewUserItems)
        {
            cancellationToken.ThrowIfCancellationRequested();
            progress?.Report(TrainingProgress.PhaseStarted("friends' items dimension", $"new users with {n} items"));
            var standIns = candidates.Where(u => _context.Histories[u].Length >= n).Take(options.NewUserStandIns).ToArray();
            var sums = new double[options.NewUserWeights.Count];
            var scores = new float[_served.Count];
            var lifted = new float[_served.Count];
            for (int s = 0; s < standIns.Length; s += 256)
            {
                var users = standIns.AsSpan(s, Math.Min(256, standIns.Length - s)).ToArray();
                var batch = _context.Batch(users);
                var given = users.Select(u => _context.Histories[u].Take(n).ToArray()).ToArray();
                var friends = users.Select(u => unit.FriendsOf(u).Take(_model.Options.MaxFriends).ToArray()).ToArray();
                var vectors = Vectors(new UserBatch(batch.Profiles, given, friends, _context.Hops is null ? null : friends.Select(f => f.Select(_ => 1).ToArray()).ToArray()));
                for (int j = 0; j < users.Length; j++)
                {
                    var x = vectors[j];
                    _served.Score(Compose(x, given[j]), scores);
                    var lifts = unit.Lifts(friends[j], x);
                    var filter = new RankOptions { Filter = ItemFilter.Exclude(_context.Histories[users[j]]) };
                    for (int g = 0; g < sums.Length; g++)
                    {
                        scores.CopyTo(lifted, 0);
                        for (int k = 0; k < lifts.Items.Length; k++) lifted[lifts.Items[k]] += options.NewUserWeights[g] * lifts.Lifts[k];
                        var top = ScoreStatistics.Top(lifted, 10, filter).Select(r => r.ItemIndex).ToArray();
                        sums[g] += RankingMetrics.Ndcg(top, relevant[users[j]], 10);
                    }
                }
            }
            var byWeight = new Dictionary<float, double>();
            float chosen = 0;
            double best = double.NegativeInfinity;
            for (int g = 0; g < sums.Length; g++)
            {
                double v = standIns.Length == 0 ? 0 : sums[g] / standIns.Length;
                byWeight[options.NewUserWeights[g]] = v;
                if (standIns.Length > 0 && v > best) (chosen, best) = (options.NewUserWeights[g], v);
            }
            report[n] = byWeight;
            // Too few stand-ins with n items: keep the shorter histories' weight rather than guess.
            weights.Add((n, standIns.Length == 0 && weights.Count > 0 ? weights[^1].Weight : chosen));
        }
        return (weights.ToArray(), report);
    }

    /// <summary>Adds known user <paramref name="user"/>'s friends' items to a catalogue-wide score row (nothing without the dimension).</summary>
    private static (int[] Items, float[] Lifts)? AddFriendItems(FriendItemsDimension? dimension, int user, ReadOnlySpan<float> spreadOf, Span<float> scores) =>
        dimension is null || user < 0 ? null : dimension.AddTo(user, spreadOf, scores);

    /// <summary>Adds what <paramref name="friends"/> (known users) chose to a catalogue-wide score row (nothing without the dimension or friends).</summary>
    private static (int[] Items, float[] Lifts)? AddFriendItems(FriendItemsDimension? dimension, IReadOnlyList<int>? friends, ReadOnlySpan<float> spreadOf, Span<float> scores) =>
        dimension is null || friends is null ? null : dimension.AddTo(friends, spreadOf, scores);

    /// <summary>
    /// The friends whose items the dimension adds for known user <paramref name="user"/> (dense): the first-hop ones;
    /// null for −1 (no known user) or without the dimension.
    /// </summary>
    private IReadOnlyList<int>? FriendItemsFriends(int user) => user < 0 ? null : _friendItems?.FriendsOf(user);
}

/// <summary>How Fit chose the friends' items dimension's weights.</summary>
/// <param name="Weight">γ_f chosen for known users (0: the dimension is not served to them).</param>
/// <param name="WeightValidation">Validation NDCG@10 of the served model per γ_f (γ_f = 0: without it); empty without validation.</param>
/// <param name="NewUserWeights">The newcomers' weight per history length (<see cref="FriendItemsOptions.NewUserItems"/>); empty without validation.</param>
/// <param name="NewUserValidation">Per history length, the stand-in newcomers' validation NDCG@10 per candidate weight.</param>
public sealed record FriendItemsReport(float Weight, IReadOnlyDictionary<float, double> WeightValidation,
    IReadOnlyDictionary<int, float> NewUserWeights, IReadOnlyDictionary<int, IReadOnlyDictionary<float, double>> NewUserValidation);

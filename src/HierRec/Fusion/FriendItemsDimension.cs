namespace HierRec.Fusion;

/// <summary>
/// The friends' items dimension: what a known user's friends chose, added to the served scores. For user u with
/// first-hop friends F_u, y_u(i) = |{f ∈ F_u : i ∈ H_f}| / |F_u| (the share of friends with item i in their training
/// history), and the served score of item i gains w_u y_u(i), with w_u = γ_f σ_E(x_u) / σ(y_u): the friends' row
/// rescaled, per user, to the spread of the user's hierarchical scores over the catalogue and weighted by γ_f, as the
/// other dimensions are (<see cref="DimensionFusion"/>). σ(y_u) is y_u's standard deviation over the whole catalogue.
/// </summary>
/// <remarks>
/// Not a dot product: y_u is as wide as the catalogue and sparse, so the ranker scores the fused query and this adds
/// the few hundred non-zero entries before the top k is taken (exact, not an approximation). A low-rank version (y_u
/// projected onto the collaborative dimension's item factors) lost most of the gain in a numpy experiment on
/// Last.fm-2K (benchmarks/RESULTS.md). Users without friends get nothing from it; a user outside the training data gets it over the known friends given
/// (the overloads taking a friend list).
/// Thread-safe after construction.
/// </remarks>
public sealed class FriendItemsDimension
{
    private readonly IReadOnlyList<int[]> _friends;
    private readonly IReadOnlyList<int[]> _histories;
    private readonly float[] _covarianceE;

    /// <summary>Prepares the dimension over known users' first-hop friends and training histories.</summary>
    /// <param name="friends">First-hop friends per user (user indices).</param>
    /// <param name="histories">Training items per user (item indices).</param>
    /// <param name="itemVectors">The hierarchical model's item vectors E (items × <paramref name="dimension"/>), for σ_E.</param>
    /// <param name="dimension">D, the width of E.</param>
    /// <param name="weight">γ_f ≥ 0.</param>
    public FriendItemsDimension(IReadOnlyList<int[]> friends, IReadOnlyList<int[]> histories, ReadOnlySpan<float> itemVectors, int dimension, float weight)
        : this(friends, histories, itemVectors, dimension, weight, null) { }

    /// <summary>As the public constructor, with Σ_E already computed (the fusion's, when it exists).</summary>
    internal FriendItemsDimension(IReadOnlyList<int[]> friends, IReadOnlyList<int[]> histories, ReadOnlySpan<float> itemVectors, int dimension, float weight,
        float[]? covarianceE)
    {
        ArgumentNullException.ThrowIfNull(friends);
        ArgumentNullException.ThrowIfNull(histories);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        if (friends.Count != histories.Count)
            throw new ArgumentException($"{friends.Count} friend lists for {histories.Count} users.", nameof(friends));
        if (itemVectors.Length == 0 || itemVectors.Length % dimension != 0)
            throw new ArgumentException($"The item vectors hold {itemVectors.Length} values, not a whole number of rows of {dimension}.", nameof(itemVectors));
        CheckWeight(weight);
        _friends = friends;
        _histories = histories;
        Items = itemVectors.Length / dimension;
        Dimension = dimension;
        Weight = weight;
        if (covarianceE is not null && covarianceE.Length != dimension * dimension)
            throw new ArgumentException($"Σ_E holds {covarianceE.Length} values; D = {dimension} needs {dimension * dimension}.", nameof(covarianceE));
        _covarianceE = covarianceE ?? DimensionFusion.Covariance(itemVectors, Items, dimension);
    }

    private FriendItemsDimension(FriendItemsDimension other, float weight)
    {
        _friends = other._friends;
        _histories = other._histories;
        _covarianceE = other._covarianceE;
        Items = other.Items;
        Dimension = other.Dimension;
        Weight = weight;
    }

    /// <summary>Catalogue size.</summary>
    public int Items { get; }

    /// <summary>D, the hierarchical dimension's width.</summary>
    public int Dimension { get; }

    /// <summary>γ_f (0: not served).</summary>
    public float Weight { get; }

    /// <summary>The same dimension at weight <paramref name="weight"/> (the covariance is shared).</summary>
    public FriendItemsDimension WithWeight(float weight)
    {
        CheckWeight(weight);
        return new FriendItemsDimension(this, weight);
    }

    /// <summary>Whether user <paramref name="user"/> has a friend whose training history is not empty.</summary>
    public bool Covers(int user) => (uint)user < (uint)_friends.Count && _friends[user].Any(f => _histories[f].Length > 0);

    /// <summary>y_u: the items some friend of <paramref name="user"/> chose, and the share of friends who did (ascending items).</summary>
    public (int[] Items, float[] Shares) Row(int user) => RowOf(FriendsOf(user));

    /// <summary>
    /// y for a user outside the training data whose friends are <paramref name="friends"/> (known users, as dense
    /// indices): the items some of them chose in training and the share who did (ascending items).
    /// </summary>
    public (int[] Items, float[] Shares) Row(IReadOnlyList<int> friends) => RowOf(CheckFriends(friends));

    /// <summary>
    /// The lifts w_u y_u(i) of <paramref name="user"/>'s friends' items, for the user whose own hierarchical vector is
    /// <paramref name="spreadOf"/> (empty at γ_f = 0, without friends, or when y_u does not vary).
    /// </summary>
    public (int[] Items, float[] Lifts) Lifts(int user, ReadOnlySpan<float> spreadOf) => LiftsOf(FriendsOf(user), spreadOf);

    /// <summary>As <see cref="Lifts(int, ReadOnlySpan{float})"/> for a user outside the training data whose friends are <paramref name="friends"/> (known users).</summary>
    public (int[] Items, float[] Lifts) Lifts(IReadOnlyList<int> friends, ReadOnlySpan<float> spreadOf) => LiftsOf(CheckFriends(friends), spreadOf);

    /// <summary>Adds <paramref name="user"/>'s lifts to a catalogue-wide row of scores; returns them (<see cref="Lifts(int, ReadOnlySpan{float})"/>).</summary>
    public (int[] Items, float[] Lifts) AddTo(int user, ReadOnlySpan<float> spreadOf, Span<float> scores) => AddLifts(FriendsOf(user), spreadOf, scores);

    /// <summary>As <see cref="AddTo(int, ReadOnlySpan{float}, Span{float})"/> for a user outside the training data whose friends are <paramref name="friends"/> (known users).</summary>
    public (int[] Items, float[] Lifts) AddTo(IReadOnlyList<int> friends, ReadOnlySpan<float> spreadOf, Span<float> scores) => AddLifts(CheckFriends(friends), spreadOf, scores);

    /// <summary>The lift of <paramref name="item"/> among <paramref name="lifts"/> (ascending items, as <see cref="Lifts(int, ReadOnlySpan{float})"/> returns them); 0 when absent.</summary>
    public static float LiftOf((int[] Items, float[] Lifts) lifts, int item)
    {
        int at = Array.BinarySearch(lifts.Items, item);
        return at >= 0 ? lifts.Lifts[at] : 0f;
    }

    /// <summary>The first-hop friends of <paramref name="user"/> who chose <paramref name="item"/> in training.</summary>
    public int[] Choosers(int user, int item) => ChoosersAmong(FriendsOf(user), item);

    /// <summary>Those of <paramref name="friends"/> (known users) who chose <paramref name="item"/> in training.</summary>
    public int[] Choosers(IReadOnlyList<int> friends, int item) => ChoosersAmong(CheckFriends(friends), item);

    /// <summary>Known user <paramref name="user"/>'s first-hop friends, as the dimension holds them.</summary>
    internal IReadOnlyList<int> FriendsOf(int user) =>
        (uint)user < (uint)_friends.Count ? _friends[user] : throw new ArgumentOutOfRangeException(nameof(user), user, $"Not one of the {_friends.Count} known users.");

    private IReadOnlyList<int> CheckFriends(IReadOnlyList<int> friends)
    {
        ArgumentNullException.ThrowIfNull(friends);
        for (int j = 0; j < friends.Count; j++)
            if ((uint)friends[j] >= (uint)_histories.Count)
                throw new ArgumentOutOfRangeException(nameof(friends), friends[j], $"Friend {j} is not one of the {_histories.Count} known users.");
        return friends;
    }

    private (int[] Items, float[] Shares) RowOf(IReadOnlyList<int> friends)
    {
        if (friends.Count == 0) return ([], []);
        var counts = new Dictionary<int, int>();
        var seen = new HashSet<int>();
        var distinct = new HashSet<int>();
        foreach (int f in friends)
        {
            if (!distinct.Add(f)) continue; // a friend named twice counts once
            seen.Clear();
            foreach (int i in _histories[f])
                if (seen.Add(i)) counts[i] = counts.GetValueOrDefault(i) + 1;
        }
        var items = counts.Keys.Order().ToArray();
        var shares = items.Select(i => counts[i] / (float)distinct.Count).ToArray();
        return (items, shares);
    }

    private (int[] Items, float[] Lifts) LiftsOf(IReadOnlyList<int> friends, ReadOnlySpan<float> spreadOf)
    {
        if (spreadOf.Length != Dimension) throw new ArgumentException($"The user vector has {spreadOf.Length} values; the dimension is {Dimension}.", nameof(spreadOf));
        if (Weight == 0) return ([], []);
        var (items, shares) = RowOf(friends);
        if (items.Length == 0) return ([], []);
        double sum = 0, squares = 0;
        foreach (float s in shares)
        {
            sum += s;
            squares += (double)s * s;
        }
        double mean = sum / Items, spreadY = Math.Sqrt(Math.Max(0, squares / Items - mean * mean));
        if (!(spreadY > 0)) return ([], []);
        double spreadE = DimensionFusion.Spread(spreadOf, _covarianceE, Dimension);
        float w = (float)(Weight * (spreadE > 0 ? spreadE : 1.0) / spreadY);
        var lifts = new float[shares.Length];
        for (int k = 0; k < shares.Length; k++) lifts[k] = w * shares[k];
        return (items, lifts);
    }

    private (int[] Items, float[] Lifts) AddLifts(IReadOnlyList<int> friends, ReadOnlySpan<float> spreadOf, Span<float> scores)
    {
        if (scores.Length != Items) throw new ArgumentException($"The score row has {scores.Length} values; the catalogue has {Items} items.", nameof(scores));
        var lifts = LiftsOf(friends, spreadOf);
        for (int k = 0; k < lifts.Items.Length; k++) scores[lifts.Items[k]] += lifts.Lifts[k];
        return lifts;
    }

    private int[] ChoosersAmong(IReadOnlyList<int> friends, int item) => friends.Distinct().Where(f => _histories[f].Contains(item)).ToArray();

    private static void CheckWeight(float weight)
    {
        if (!(weight >= 0) || !float.IsFinite(weight)) throw new ArgumentOutOfRangeException(nameof(weight), weight, "The friends' items weight γ_f must be finite and ≥ 0.");
    }
}

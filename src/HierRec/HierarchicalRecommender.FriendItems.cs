using HierRec.Data;
using HierRec.Evaluation;
using HierRec.Fusion;

namespace HierRec;

/// <summary>
/// The friends' items dimension (<see cref="FriendItemsDimension"/>): what a known user's first-hop friends chose, added
/// to the served scores with a weight chosen on validation after the other dimensions'.
/// </summary>
public sealed partial class HierarchicalRecommender
{
    private FriendItemsDimension? _friendItems;

    /// <summary>The friends' items dimension served, or null (off, no social edges, or γ_f = 0 chosen).</summary>
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
    private void FitFriendItems(Dataset train, Dataset? validation, FriendItemsOptions options, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        if (validation is null)
        {
            FriendItemsReport = new FriendItemsReport(0f, new Dictionary<float, double>());
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
        FriendItemsReport = new FriendItemsReport(chosen, scores);
        if (chosen > 0) _friendItems = dimension.WithWeight(chosen);
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

/// <summary>How Fit chose the friends' items dimension's weight.</summary>
/// <param name="Weight">γ_f chosen (0: the dimension is not served).</param>
/// <param name="WeightValidation">Validation NDCG@10 of the served model per γ_f (γ_f = 0: without it); empty without validation.</param>
public sealed record FriendItemsReport(float Weight, IReadOnlyDictionary<float, double> WeightValidation);

using HierRec.Data;
using HierRec.Evaluation;

namespace HierRec.Baselines;

/// <summary>
/// Item-based k-nearest neighbours: cosine similarity of item interaction vectors with shrinkage,
/// sim(i, j) = |U_i ∩ U_j| / (√|U_i| √|U_j| + shrink), keeping each item's k most similar items; a user's score for j
/// is the sum of sim(i, j) over the items i the user has.
/// </summary>
/// <remarks>Defaults (k = 100, shrink = 0) follow RecBole's ItemKNN. Thread-safe after construction.</remarks>
public sealed class ItemKnn : IScoringModel
{
    private readonly InteractionMatrix _x;
    private readonly int[][] _neighbours;
    private readonly float[][] _weights;

    /// <summary>Fits the neighbourhoods on <paramref name="train"/>.</summary>
    public ItemKnn(Dataset train, int k = 100, double shrink = 0)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        ArgumentOutOfRangeException.ThrowIfNegative(shrink);
        K = k;
        Shrink = shrink;
        _x = new InteractionMatrix(train);
        int n = _x.Items;
        var counts = _x.ItemCounts();
        // Users of each item, to count co-occurrences one item at a time without an items × items matrix.
        var byItem = Enumerable.Range(0, n).Select(_ => new List<int>()).ToArray();
        for (int u = 0; u < _x.Users; u++) foreach (int i in _x.Row(u)) byItem[i].Add(u);
        _neighbours = new int[n][];
        _weights = new float[n][];
        Parallel.For(0, n, () => new int[n], (i, _, co) =>
        {
            Array.Clear(co);
            foreach (int u in byItem[i]) foreach (int j in _x.Row(u)) co[j]++;
            co[i] = 0;
            var candidates = new List<(float W, int J)>();
            for (int j = 0; j < n; j++)
            {
                if (co[j] == 0) continue;
                double w = co[j] / (Math.Sqrt(counts[i]) * Math.Sqrt(counts[j]) + shrink);
                candidates.Add(((float)w, j));
            }
            var top = candidates.OrderByDescending(c => c.W).ThenBy(c => c.J).Take(k).ToArray();
            _neighbours[i] = top.Select(t => t.J).ToArray();
            _weights[i] = top.Select(t => t.W).ToArray();
            return co;
        }, _ => { });
    }

    /// <summary>Neighbours kept per item.</summary>
    public int K { get; }

    /// <summary>Shrinkage added to the cosine's denominator.</summary>
    public double Shrink { get; }

    /// <inheritdoc />
    public int ItemCount => _x.Items;

    /// <inheritdoc />
    public void ScoreUsers(ReadOnlySpan<int> users, Span<float> scores) => _x.ScoreFromHistory(users, scores, (i, dst) =>
    {
        var nb = _neighbours[i];
        var w = _weights[i];
        for (int t = 0; t < nb.Length; t++) dst[nb[t]] += w[t];
    });
}

using HierRec.Data;
using HierRec.Evaluation;
using MathNet.Numerics.LinearAlgebra;

namespace HierRec.Baselines;

/// <summary>
/// EASE (Steck, 2019): an item-item weight matrix B with a zero diagonal in closed form,
/// P = (XᵀX + λI)⁻¹, B = I − P · diag(1 / diag(P)); a user's scores are x_u · B.
/// </summary>
/// <remarks>
/// Dense items × items in double for the solve (MathNet.Numerics, off the hot path) and float for scoring, so it
/// suits catalogues up to a few ten thousand items. Default λ = 250 (RecBole's default for EASE is 250 as well).
/// Thread-safe after construction.
/// </remarks>
public sealed class Ease : IScoringModel
{
    private readonly InteractionMatrix _x;
    private readonly float[] _b; // (items, items) row-major

    /// <summary>Fits EASE on <paramref name="train"/> with regularisation <paramref name="lambda"/>.</summary>
    public Ease(Dataset train, double lambda = 250)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(lambda);
        _x = new InteractionMatrix(train);
        int n = _x.Items;
        Lambda = lambda;
        var g = Matrix<double>.Build.Dense(n, n);
        for (int u = 0; u < _x.Users; u++)
        {
            var row = _x.Row(u);
            foreach (int i in row)
                foreach (int j in row) g[i, j] += 1;
        }
        for (int i = 0; i < n; i++) g[i, i] += lambda;
        var p = g.Cholesky().Solve(Matrix<double>.Build.DenseIdentity(n));
        _b = new float[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) _b[i * n + j] = i == j ? 0f : (float)(-p[i, j] / p[j, j]);
    }

    /// <summary>The regularisation used.</summary>
    public double Lambda { get; }

    /// <inheritdoc />
    public int ItemCount => _x.Items;

    /// <inheritdoc />
    public void ScoreUsers(ReadOnlySpan<int> users, Span<float> scores)
    {
        int n = _x.Items;
        _x.ScoreFromHistory(users, scores, (i, dst) => System.Numerics.Tensors.TensorPrimitives.Add(dst, _b.AsSpan(i * n, n), dst));
    }
}

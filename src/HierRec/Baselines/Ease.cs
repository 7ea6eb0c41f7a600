using HierRec.Data;
using HierRec.Evaluation;
using TorchSharp;
using static TorchSharp.torch;

namespace HierRec.Baselines;

/// <summary>
/// EASE (Steck, 2019): an item-item weight matrix B with a zero diagonal in closed form,
/// P = (XᵀX + λI)⁻¹, B = I − P · diag(1 / diag(P)); a user's scores are x_u · B.
/// </summary>
/// <remarks>
/// The solve runs in libtorch: the Gram matrix XᵀX as one matrix product of the dense (users × items) 0/1 matrix, then
/// a Cholesky factorisation and <c>cholesky_inverse</c>, in float32 on all of libtorch's threads (the dense items ×
/// items matrix, 4n² bytes, is the limit: 1.2 GB at 17.6k items). Scoring is float. Default λ = 250 (RecBole's default
/// for EASE is 250 as well). Thread-safe after construction.
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
        _b = Solve(_x, lambda);
    }

    private static float[] Solve(InteractionMatrix x, double lambda)
    {
        int n = x.Items;
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var dense = new float[checked((long)x.Users * n)];
        for (int u = 0; u < x.Users; u++)
            foreach (int i in x.Row(u)) dense[(long)u * n + i] = 1f;
        var xt = torch.tensor(dense, [x.Users, n]);                          // (users, items)
        var g = xt.t().matmul(xt);                                            // (items, items) Gram matrix
        g.diagonal().add_(lambda);
        var p = torch.cholesky_inverse(torch.linalg.cholesky(g));            // P = (XᵀX + λI)⁻¹
        var b = p / p.diagonal().neg().unsqueeze(0);                          // B_ij = −P_ij / P_jj
        b.diagonal().zero_();
        return b.contiguous().data<float>().ToArray();
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

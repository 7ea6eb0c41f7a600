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
    /// <param name="train">The training interactions.</param>
    /// <param name="lambda">λ, the L2 regularisation.</param>
    /// <param name="progress">
    /// The solve's phases as <see cref="ProgressKind.Phase"/> reports (phase "solving EASE"): the Gram matrix, the
    /// Cholesky factorisation, the inverse; a closed-form solve has no steps or epochs.
    /// </param>
    public Ease(Dataset train, double lambda = 250, IProgress<TrainingProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(lambda);
        _x = new InteractionMatrix(train);
        Lambda = lambda;
        _b = Solve(_x, lambda, progress);
    }

    private static float[] Solve(InteractionMatrix x, double lambda, IProgress<TrainingProgress>? progress)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        return TorchInterop.ToFloats(SolveTensor(x, lambda, progress));
    }

    /// <summary>B as an (items, items) float32 tensor on the CPU, in the caller's dispose scope (no gradients).</summary>
    internal static Tensor SolveTensor(InteractionMatrix x, double lambda, IProgress<TrainingProgress>? progress)
    {
        const string phase = "solving EASE";
        int n = x.Items;
        using var noGrad = torch.no_grad();
        progress?.Report(TrainingProgress.PhaseStarted(phase, $"Gram matrix XᵀX of {x.Users} users × {n} items"));
        var dense = new float[checked((long)x.Users * n)];
        for (int u = 0; u < x.Users; u++)
            foreach (int i in x.Row(u)) dense[(long)u * n + i] = 1f;
        var xt = torch.tensor(dense, [x.Users, n]);                          // (users, items)
        var g = xt.t().matmul(xt);                                            // (items, items) Gram matrix
        g.diagonal().PlusInPlace(lambda);
        progress?.Report(TrainingProgress.PhaseStarted(phase, $"Cholesky factorisation of the {n} × {n} matrix"));
        var l = torch.linalg.cholesky(g);
        progress?.Report(TrainingProgress.PhaseStarted(phase, "inverse from the factor, B = I − P · diag(1 / diag(P))"));
        var p = torch.cholesky_inverse(l);                                    // P = (XᵀX + λI)⁻¹
        var b = p / p.diagonal().neg().unsqueeze(0);                          // B_ij = −P_ij / P_jj
        b.diagonal().zero_();
        return b;
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

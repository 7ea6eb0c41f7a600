using HierRec.Baselines;
using HierRec.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace HierRec.Fusion;

/// <summary>
/// The collaborative (item-to-item) interest dimension: EASE's item-item matrix B (Steck, 2019), solved in closed form
/// on the training interactions, factorised to rank r as B ≈ A Vᵀ. A user's collaborative scores x_u B are then
/// ≈ c_u Vᵀ with c_u = Σ_{j ∈ H_u} A_j: a dot product, so the ranker serves them beside the hierarchical model's
/// ⟨x_u, E_i⟩ by appending c_u to the query and V_i to the item vectors (see <see cref="DimensionFusion"/>).
/// </summary>
/// <remarks>
/// The factorisation is a randomised SVD (a Gaussian sketch of width r + 10 with two power iterations, seeded) or an
/// exact SVD when r + 10 reaches the catalogue size. On MovieLens-100K, rank 128 keeps EASE's validation NDCG@10 to
/// within 0.3 % (0.2600 against 0.2608). The dense solve needs 4n² bytes (1.2 GB at 17.6k items) while it runs; only the
/// two (n, r) factors are kept. Thread-safe after construction.
/// </remarks>
public sealed class CollaborativeDimension
{
    private readonly float[] _history;    // A, (items, rank) row-major
    private readonly float[] _candidates; // V, (items, rank) row-major

    private CollaborativeDimension(int items, int rank, double lambda, float[] history, float[] candidates)
    {
        Items = items;
        Rank = rank;
        Lambda = lambda;
        _history = history;
        _candidates = candidates;
    }

    /// <summary>Catalogue size.</summary>
    public int Items { get; }

    /// <summary>Rank r of the factors.</summary>
    public int Rank { get; }

    /// <summary>EASE's λ.</summary>
    public double Lambda { get; }

    /// <summary>A: the history-side factors, (items, rank) row-major.</summary>
    public ReadOnlySpan<float> HistoryFactors => _history;

    /// <summary>V: the candidate-side factors, (items, rank) row-major (the rows the ranker appends to item vectors).</summary>
    public ReadOnlySpan<float> CandidateFactors => _candidates;

    /// <summary>Solves EASE on <paramref name="train"/> with <paramref name="lambda"/> and factorises B to <paramref name="rank"/>.</summary>
    /// <param name="train">The training interactions.</param>
    /// <param name="lambda">EASE's L2 regularisation λ (&gt; 0).</param>
    /// <param name="rank">Rank of the factors (1 … items).</param>
    /// <param name="seed">Seed of the randomised SVD's sketch.</param>
    /// <param name="progress">The solve's phases.</param>
    public static CollaborativeDimension Fit(Dataset train, double lambda, int rank, long seed = 1, IProgress<TrainingProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(lambda);
        int n = train.ItemCount;
        OptionChecks.Range(nameof(rank), rank, 1, n);
        var x = new InteractionMatrix(train);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var b = Ease.SolveTensor(x, lambda, progress);
        progress?.Report(TrainingProgress.PhaseStarted("solving EASE", $"rank-{rank} factorisation of B"));
        Tensor u, s, vh;
        int sketch = rank + 10;
        if (sketch >= n)
        {
            (u, s, vh) = torch.linalg.svd(b, fullMatrices: false);
        }
        else
        {
            using var generator = new Generator((ulong)seed);
            var y = b.matmul(torch.randn(n, sketch, generator: generator));
            for (int q = 0; q < 2; q++)
            {
                y = torch.linalg.qr(y).Q;
                y = b.matmul(b.t().matmul(y));
            }
            var basis = torch.linalg.qr(y).Q;                                 // (n, sketch), orthonormal columns
            var (ub, sb, vhb) = torch.linalg.svd(basis.t().matmul(b), fullMatrices: false);
            (u, s, vh) = (basis.matmul(ub), sb, vhb);
        }
        var root = s.narrow(0, 0, rank).sqrt();
        var history = u.narrow(1, 0, rank) * root;                           // A = U_r √S_r
        var candidates = vh.narrow(0, 0, rank).t() * root;                   // V = V_r √S_r
        return new CollaborativeDimension(n, rank, lambda, TorchInterop.ToFloats(history), TorchInterop.ToFloats(candidates));
    }

    /// <summary>Rebuilds a dimension from saved factors (checked for shape and finiteness).</summary>
    /// <exception cref="InvalidDataException">The factors do not have items × rank finite values.</exception>
    public static CollaborativeDimension FromFactors(int items, int rank, double lambda, float[] history, float[] candidates, string source)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(candidates);
        if (items <= 0 || rank <= 0 || rank > items) throw new InvalidDataException($"{source}: rank {rank} for {items} items is out of range.");
        if (!(lambda > 0) || double.IsInfinity(lambda)) throw new InvalidDataException($"{source}: λ = {lambda} must be positive and finite.");
        long expected = (long)items * rank;
        if (history.Length != expected || candidates.Length != expected)
            throw new InvalidDataException($"{source}: the factors hold {history.Length} and {candidates.Length} values; {items} items × rank {rank} needs {expected} each.");
        for (int j = 0; j < history.Length; j++)
            if (!float.IsFinite(history[j]) || !float.IsFinite(candidates[j]))
                throw new InvalidDataException($"{source}: item {j / rank}'s factors are not finite.");
        return new CollaborativeDimension(items, rank, lambda, history, candidates);
    }

    /// <summary>c_u = Σ_{j ∈ history} A_j, written to <paramref name="destination"/> (rank floats). Repeated items count once.</summary>
    public void UserFactors(ReadOnlySpan<int> history, Span<float> destination)
    {
        if (destination.Length != Rank) throw new ArgumentException($"The destination has {destination.Length} floats; the rank is {Rank}.", nameof(destination));
        destination.Clear();
        var seen = history.Length > 64 ? new HashSet<int>() : null;
        for (int k = 0; k < history.Length; k++)
        {
            int j = history[k];
            if ((uint)j >= (uint)Items) throw new ArgumentOutOfRangeException(nameof(history), j, $"Item {j} at position {k} is outside the {Items} items.");
            if (seen is not null ? !seen.Add(j) : history[..k].Contains(j)) continue;
            System.Numerics.Tensors.TensorPrimitives.Add(destination, _history.AsSpan(j * Rank, Rank), destination);
        }
    }

    /// <summary>The collaborative score of one item for user factors <paramref name="userFactors"/>: ⟨c_u, V_i⟩.</summary>
    public float Score(ReadOnlySpan<float> userFactors, int item) =>
        System.Numerics.Tensors.TensorPrimitives.Dot(userFactors, _candidates.AsSpan(item * Rank, Rank));
}

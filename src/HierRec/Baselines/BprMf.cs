using HierRec.Data;
using HierRec.Evaluation;
using HierRec.Tensors;
using HierRec.Tensors.Kernels;
using HierRec.Tensors.Optimizers;
using Tensor = HierRec.Tensors.Tensor;

namespace HierRec.Baselines;

/// <summary>Options of <see cref="BprMf"/>; defaults follow RecBole's BPR (64 dimensions, Adam at 1e-3, batch 2048).</summary>
public sealed class BprOptions
{
    /// <summary>Embedding size. Default 64.</summary>
    public int Dimension { get; init; } = 64;

    /// <summary>Adam learning rate. Default 1e-3.</summary>
    public float LearningRate { get; init; } = 1e-3f;

    /// <summary>(user, positive, negative) triples per step. Default 2048.</summary>
    public int BatchSize { get; init; } = 2048;

    /// <summary>Upper bound on epochs. Default 300.</summary>
    public int MaxEpochs { get; init; } = 300;

    /// <summary>Epochs without a better validation NDCG@10 before stopping. Default 10.</summary>
    public int Patience { get; init; } = 10;

    /// <summary>L2 penalty on the embeddings in a batch (RecBole's BPR has none). Default 0.</summary>
    public float L2 { get; init; }

    /// <summary>Seed of initialisation, shuffling and negative sampling. Default 2020 (RecBole's).</summary>
    public ulong Seed { get; init; } = 2020;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Dimension, nameof(Dimension));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(BatchSize, nameof(BatchSize));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxEpochs, nameof(MaxEpochs));
        if (!(LearningRate > 0)) throw new ArgumentOutOfRangeException(nameof(LearningRate));
    }
}

/// <summary>One epoch's report while fitting.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="Loss">Mean BPR loss of the epoch.</param>
/// <param name="ValidationNdcg">Validation NDCG@10 after the epoch (NaN without validation data).</param>
public readonly record struct EpochReport(int Epoch, double Loss, double ValidationNdcg);

/// <summary>
/// BPR matrix factorisation (Rendle et al., 2009): score(u, i) = ⟨p_u, q_i⟩, trained on −log σ(s(u, i⁺) − s(u, i⁻)) with
/// one uniformly sampled negative per positive, Adam, and early stopping on validation NDCG@10 (the best epoch's
/// embeddings are kept).
/// </summary>
/// <remarks>Thread-safe for scoring after fitting.</remarks>
public sealed class BprMf : IScoringModel
{
    private readonly float[] _users; // (users, d)
    private readonly float[] _items; // (items, d)

    private BprMf(int users, int items, int d, float[] u, float[] i)
    {
        UserCount = users;
        ItemCount = items;
        Dimension = d;
        _users = u;
        _items = i;
    }

    /// <summary>Number of users.</summary>
    public int UserCount { get; }

    /// <inheritdoc />
    public int ItemCount { get; }

    /// <summary>Embedding size.</summary>
    public int Dimension { get; }

    /// <summary>The epoch whose embeddings were kept.</summary>
    public int BestEpoch { get; private set; }

    /// <summary>Fits on <paramref name="train"/>, selecting the epoch by NDCG@10 on <paramref name="validation"/> when given.</summary>
    public static BprMf Fit(Dataset train, Dataset? validation, BprOptions? options = null, IProgress<EpochReport>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        options ??= new BprOptions();
        options.Validate();
        var x = new InteractionMatrix(train);
        int nu = x.Users, ni = x.Items, d = options.Dimension;
        var rng = new Rng(options.Seed);
        // Xavier-normal, as RecBole initialises embeddings: std = √(2 / (rows + cols)).
        var userArray = new float[nu * d];
        var itemArray = new float[ni * d];
        rng.FillNormal(userArray, 0, MathF.Sqrt(2f / (nu + d)));
        rng.FillNormal(itemArray, 0, MathF.Sqrt(2f / (ni + d)));
        // The tensors wrap the model's arrays, so the optimizer updates the model in place.
        var pu = new Tensor(userArray, nu, d) { RequiresGrad = true };
        var qi = new Tensor(itemArray, ni, d) { RequiresGrad = true };
        var adam = new AdamW([new ParameterGroup([pu, qi], 0f)], options.LearningRate);
        var model = new BprMf(nu, ni, d, userArray, itemArray);
        var pairs = BprTraining.Pairs(x);
        var evaluator = new Evaluator { Ks = [10] };
        var stopper = new EarlyStopper(options.Patience);
        float[]? bestU = null, bestI = null;
        var gu = new Tensor(nu, d);
        var gi = new Tensor(ni, d);
        for (int epoch = 1; epoch <= options.MaxEpochs; epoch++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            rng.Shuffle(pairs.AsSpan());
            double lossSum = 0;
            for (int start = 0; start < pairs.Length; start += options.BatchSize)
            {
                int b = Math.Min(options.BatchSize, pairs.Length - start);
                gu.Data.Clear();
                gi.Data.Clear();
                var P = pu.Data;
                var Q = qi.Data;
                var dP = gu.Data;
                var dQ = gi.Data;
                float inv = 1f / b;
                for (int t = 0; t < b; t++)
                {
                    var (u, i) = pairs[start + t];
                    int j = BprTraining.SampleNegative(x, u, rng);
                    var pv = P.Slice(u * d, d);
                    var qiv = Q.Slice(i * d, d);
                    var qjv = Q.Slice(j * d, d);
                    float diff = System.Numerics.Tensors.TensorPrimitives.Dot(pv, qiv) - System.Numerics.Tensors.TensorPrimitives.Dot(pv, qjv);
                    float g = BprTraining.Term(diff, inv, ref lossSum);
                    var dpu = dP.Slice(u * d, d);
                    var dqi = dQ.Slice(i * d, d);
                    var dqj = dQ.Slice(j * d, d);
                    for (int k = 0; k < d; k++)
                    {
                        float pk = pv[k];
                        dpu[k] += g * (qiv[k] - qjv[k]) + options.L2 * inv * pk;
                        dqi[k] += g * pk + options.L2 * inv * qiv[k];
                        dqj[k] += -g * pk + options.L2 * inv * qjv[k];
                    }
                }
                pu.Grad = gu;
                qi.Grad = gi;
                adam.Step();
            }
            double ndcg = double.NaN;
            if (validation is not null)
            {
                ndcg = evaluator.Evaluate(model, validation, train)["ndcg@10"];
                bool stop = stopper.Observe(epoch, ndcg, out bool improved);
                if (improved)
                {
                    bestU = (float[])userArray.Clone();
                    bestI = (float[])itemArray.Clone();
                    model.BestEpoch = epoch;
                }
                if (stop) break;
            }
            else model.BestEpoch = epoch;
            progress?.Report(new EpochReport(epoch, lossSum / pairs.Length, ndcg));
        }
        if (bestU is not null)
        {
            bestU.CopyTo(model._users, 0);
            bestI!.CopyTo(model._items, 0);
        }
        return model;
    }

    /// <inheritdoc />
    public void ScoreUsers(ReadOnlySpan<int> users, Span<float> scores)
    {
        int d = Dimension;
        var u = new float[users.Length * d];
        for (int k = 0; k < users.Length; k++) _users.AsSpan(users[k] * d, d).CopyTo(u.AsSpan(k * d, d));
        new ManagedGemm(1).Sgemm(false, true, users.Length, ItemCount, d, 1f, u, d, _items, d, 0f, scores, ItemCount);
    }
}

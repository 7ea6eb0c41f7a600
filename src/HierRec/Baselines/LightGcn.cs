using System.Numerics.Tensors;
using HierRec.Data;
using HierRec.Evaluation;
using HierRec.Tensors;
using HierRec.Tensors.Kernels;
using HierRec.Tensors.Optimizers;
using Tensor = HierRec.Tensors.Tensor;

namespace HierRec.Baselines;

/// <summary>Options of <see cref="LightGcn"/>; defaults follow RecBole (64 dimensions, 3 layers, reg 1e-5, Adam 1e-3, batch 2048).</summary>
public sealed class LightGcnOptions
{
    /// <summary>Embedding size. Default 64.</summary>
    public int Dimension { get; init; } = 64;

    /// <summary>Propagation layers K. Default 3.</summary>
    public int Layers { get; init; } = 3;

    /// <summary>L2 weight on the batch's layer-0 embeddings (RecBole's reg_weight). Default 1e-5.</summary>
    public float RegWeight { get; init; } = 1e-5f;

    /// <summary>Adam learning rate. Default 1e-3.</summary>
    public float LearningRate { get; init; } = 1e-3f;

    /// <summary>Triples per step. Default 2048.</summary>
    public int BatchSize { get; init; } = 2048;

    /// <summary>Upper bound on epochs. Default 300.</summary>
    public int MaxEpochs { get; init; } = 300;

    /// <summary>Epochs without a better validation NDCG@10 before stopping. Default 10.</summary>
    public int Patience { get; init; } = 10;

    /// <summary>Seed. Default 2020.</summary>
    public ulong Seed { get; init; } = 2020;
}

/// <summary>
/// LightGCN (He et al., 2020): layer-0 user and item embeddings propagated K times over the symmetrically normalised
/// user-item graph Â = D^{−½} A D^{−½}; the final embedding is the mean of layers 0..K and score(u, i) = ⟨e_u, e_i⟩.
/// Trained with the BPR loss plus RecBole's L2 term on the batch's layer-0 embeddings.
/// </summary>
/// <remarks>
/// The gradient of the final embeddings flows back to layer 0 through the same operator (Â is symmetric):
/// ∂L/∂E₀ = (1/(K+1)) Σₖ Âᵏ G. Propagation is a row-wise sparse × dense product. Thread-safe for scoring after fitting.
/// </remarks>
public sealed class LightGcn : IScoringModel
{
    private readonly int _users, _items, _d;
    private readonly float[] _final; // (users + items, d) propagated embeddings used for scoring

    private LightGcn(int users, int items, int d, float[] final)
    {
        _users = users;
        _items = items;
        _d = d;
        _final = final;
    }

    /// <inheritdoc />
    public int ItemCount => _items;

    /// <summary>The epoch whose embeddings were kept.</summary>
    public int BestEpoch { get; private set; }

    /// <summary>Fits on <paramref name="train"/>, keeping the epoch with the best NDCG@10 on <paramref name="validation"/>.</summary>
    public static LightGcn Fit(Dataset train, Dataset? validation, LightGcnOptions? options = null, IProgress<EpochReport>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        options ??= new LightGcnOptions();
        var x = new InteractionMatrix(train);
        int nu = x.Users, ni = x.Items, n = nu + ni, d = options.Dimension, layers = options.Layers;
        var graph = NormalizedGraph.Build(x);
        var rng = new Rng(options.Seed);
        var e0Array = new float[n * d];
        rng.FillNormal(e0Array.AsSpan(0, nu * d), 0, MathF.Sqrt(2f / (nu + d)));
        rng.FillNormal(e0Array.AsSpan(nu * d), 0, MathF.Sqrt(2f / (ni + d)));
        var e0 = new Tensor(e0Array, n, d) { RequiresGrad = true };
        var adam = new AdamW([new ParameterGroup([e0], 0f)], options.LearningRate);
        var final = new float[n * d];
        var model = new LightGcn(nu, ni, d, final);
        var pairs = BprTraining.Pairs(x);
        var bufA = new float[n * d];
        var bufB = new float[n * d];
        var grad = new float[n * d];
        var gradAcc = new Tensor(n, d);
        var evaluator = new Evaluator { Ks = [10] };
        var stopper = new EarlyStopper(options.Patience);
        float[]? bestFinal = null;
        float scale = 1f / (layers + 1);
        for (int epoch = 1; epoch <= options.MaxEpochs; epoch++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            rng.Shuffle(pairs.AsSpan());
            double lossSum = 0;
            for (int start = 0; start < pairs.Length; start += options.BatchSize)
            {
                int b = Math.Min(options.BatchSize, pairs.Length - start);
                Propagate(graph, e0Array, final, bufA, bufB, layers, d);
                Array.Clear(grad);
                float inv = 1f / b;
                var e0s = e0Array.AsSpan();
                for (int t = 0; t < b; t++)
                {
                    var (u, i) = pairs[start + t];
                    int j = BprTraining.SampleNegative(x, u, rng);
                    int ui = u, ii = nu + i, ji = nu + j;
                    var eu = final.AsSpan(ui * d, d);
                    var ei = final.AsSpan(ii * d, d);
                    var ej = final.AsSpan(ji * d, d);
                    float diff = TensorPrimitives.Dot(eu, ei) - TensorPrimitives.Dot(eu, ej);
                    float g = BprTraining.Term(diff, inv, ref lossSum);
                    var gu = grad.AsSpan(ui * d, d);
                    var gi = grad.AsSpan(ii * d, d);
                    var gj = grad.AsSpan(ji * d, d);
                    for (int k = 0; k < d; k++)
                    {
                        gu[k] += g * (ei[k] - ej[k]);
                        gi[k] += g * eu[k];
                        gj[k] -= g * eu[k];
                    }
                }
                // Back through the mean of layers: dE0 = (1/(K+1)) Σ_k Â^k G, then RecBole's reg on the batch's E0 rows.
                var acc = gradAcc.Data;
                grad.AsSpan().CopyTo(acc);
                var cur = grad;
                for (int l = 0; l < layers; l++)
                {
                    var next = l % 2 == 0 ? bufA : bufB;
                    graph.Multiply(cur, next, d);
                    TensorPrimitives.Add(acc, next, acc);
                    cur = next;
                }
                TensorPrimitives.Multiply(acc, scale, acc);
                float reg = options.RegWeight * inv * 2;
                for (int t = 0; t < b; t++)
                {
                    var (u, i) = pairs[start + t];
                    foreach (int row in new[] { u, nu + i })
                    {
                        var a = acc.Slice(row * d, d);
                        TensorPrimitives.MultiplyAdd(e0s.Slice(row * d, d), reg, a, a);
                    }
                }
                e0.Grad = gradAcc;
                adam.Step();
            }
            Propagate(graph, e0Array, final, bufA, bufB, layers, d);
            double ndcg = double.NaN;
            if (validation is not null)
            {
                ndcg = evaluator.Evaluate(model, validation, train)["ndcg@10"];
                bool stop = stopper.Observe(epoch, ndcg, out bool improved);
                if (improved)
                {
                    bestFinal = (float[])final.Clone();
                    model.BestEpoch = epoch;
                }
                if (stop) break;
            }
            else model.BestEpoch = epoch;
            progress?.Report(new EpochReport(epoch, lossSum / pairs.Length, ndcg));
        }
        bestFinal?.CopyTo(final, 0);
        return model;
    }

    /// <summary>final = (1/(K+1)) Σ_k Â^k E0.</summary>
    private static void Propagate(NormalizedGraph graph, float[] e0, float[] final, float[] bufA, float[] bufB, int layers, int d)
    {
        e0.AsSpan().CopyTo(final);
        float[] cur = e0;
        for (int l = 0; l < layers; l++)
        {
            var next = l % 2 == 0 ? bufA : bufB;
            graph.Multiply(cur, next, d);
            TensorPrimitives.Add(final, next, final);
            cur = next;
        }
        TensorPrimitives.Multiply(final, 1f / (layers + 1), final);
    }

    /// <inheritdoc />
    public void ScoreUsers(ReadOnlySpan<int> users, Span<float> scores)
    {
        var u = new float[users.Length * _d];
        for (int k = 0; k < users.Length; k++) _final.AsSpan(users[k] * _d, _d).CopyTo(u.AsSpan(k * _d, _d));
        new ManagedGemm(1).Sgemm(false, true, users.Length, _items, _d, 1f, u, _d, _final.AsSpan(_users * _d), _d, 0f, scores, _items);
    }

    /// <summary>Â = D^{−½} A D^{−½} of the bipartite graph over users then items, as CSR with weights.</summary>
    private sealed class NormalizedGraph
    {
        private int[] _start = [];
        private int[] _cols = [];
        private float[] _w = [];

        public static NormalizedGraph Build(InteractionMatrix x)
        {
            int nu = x.Users, n = nu + x.Items;
            var deg = new int[n];
            for (int u = 0; u < nu; u++)
                foreach (int i in x.Row(u)) { deg[u]++; deg[nu + i]++; }
            var adj = Enumerable.Range(0, n).Select(_ => new List<int>()).ToArray();
            for (int u = 0; u < nu; u++)
                foreach (int i in x.Row(u)) { adj[u].Add(nu + i); adj[nu + i].Add(u); }
            var g = new NormalizedGraph { _start = new int[n + 1] };
            for (int r = 0; r < n; r++) g._start[r + 1] = g._start[r] + adj[r].Count;
            g._cols = new int[g._start[n]];
            g._w = new float[g._start[n]];
            for (int r = 0; r < n; r++)
            {
                int k = g._start[r];
                foreach (int c in adj[r])
                {
                    g._cols[k] = c;
                    g._w[k++] = (float)(1 / Math.Sqrt((double)deg[r] * deg[c]));
                }
            }
            return g;
        }

        /// <summary>y = Â x for (n, d) row-major x and y; rows split across cores.</summary>
        public void Multiply(float[] x, float[] y, int d)
        {
            int n = _start.Length - 1;
            Parallel.For(0, Environment.ProcessorCount, t =>
            {
                int r0 = (int)((long)n * t / Environment.ProcessorCount), r1 = (int)((long)n * (t + 1) / Environment.ProcessorCount);
                for (int r = r0; r < r1; r++)
                {
                    var dst = y.AsSpan(r * d, d);
                    dst.Clear();
                    for (int k = _start[r]; k < _start[r + 1]; k++) TensorPrimitives.MultiplyAdd(x.AsSpan(_cols[k] * d, d), _w[k], dst, dst);
                }
            });
        }
    }
}

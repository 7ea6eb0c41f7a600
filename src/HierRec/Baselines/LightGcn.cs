using HierRec.Data;
using HierRec.Evaluation;
using HierRec.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HierRec.Baselines;

/// <summary>
/// LightGCN (He et al., 2020): layer-0 user and item embeddings propagated K times over the symmetrically normalised
/// user-item graph Â = D^{−½} A D^{−½}; the final embedding is the mean of layers 0..K and score(u, i) = ⟨e_u, e_i⟩.
/// Trained with the BPR loss plus RecBole's L2 term on the batch's layer-0 embeddings, on HierRec's training loop.
/// </summary>
/// <remarks>
/// Propagation is a row-parallel CSR product wrapped as a libtorch autograd function (<see cref="NormalizedGraph"/>):
/// the gradient flows back to layer 0 through the same operator, Â being symmetric. Thread-safe for scoring after fitting.
/// </remarks>
public sealed class LightGcn : nn.Module, IScoringModel
{
    /// <summary>Registers nothing by reflection: the constructor registers every component by name (<see cref="Training.TorchCheckpoint.State"/> says why).</summary>
    protected override void RegisterComponents() { }

    private readonly int _users, _items, _layers;
    private readonly NormalizedGraph _graph;  // Â
    private Tensor? _final;          // (n, D), the propagated embeddings scoring reads

    private LightGcn(InteractionMatrix x, int d, int layers, Generator generator) : base(nameof(LightGcn))
    {
        _users = x.Users;
        _items = x.Items;
        _layers = layers;
        var e0 = new Parameter(torch.empty(_users + _items, d));
        using (torch.no_grad())
        {
            e0[TensorIndex.Slice(0, _users)].normal_(0, Math.Sqrt(2.0 / (_users + d)), generator);
            e0[TensorIndex.Slice(_users, null)].normal_(0, Math.Sqrt(2.0 / (_items + d)), generator);
        }
        register_parameter("embedding", e0);
        _graph = NormalizedGraph.Build(x);
    }

    /// <inheritdoc/>
    public int MaxParallelism => 1;

    /// <inheritdoc />
    public int ItemCount => _items;

    /// <summary>The epoch whose embeddings were kept.</summary>
    public int BestEpoch { get; private set; }

    /// <summary>E₀: layer-0 embeddings, users then items, (users + items, D).</summary>
    public Parameter Embedding => get_parameter("embedding")!;

    /// <summary>Fits on <paramref name="train"/>, keeping the epoch with the best NDCG@10 on <paramref name="validation"/>.</summary>
    public static LightGcn Fit(Dataset train, Dataset? validation, LightGcnOptions? options = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        options ??= new LightGcnOptions();
        options.Validate();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Dimension);
        ArgumentOutOfRangeException.ThrowIfNegative(options.Layers);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.BatchSize);
        var x = new InteractionMatrix(train);
        LightGcn model;
        using (var generator = new Generator(options.Seed)) model = new LightGcn(x, options.Dimension, options.Layers, generator);
        int nu = x.Users;
        double reg = options.RegWeight;
        var task = new BprTraining.Task(model, model, x, train, validation, options.BatchSize, (u, i, j) =>
        {
            var device = model.Embedding.device;
            var final = model.Propagate();
            var ui = torch.tensor(u, device: device);
            var ii = torch.tensor(i, device: device).Plus((long)nu);
            var ji = torch.tensor(j, device: device).Plus((long)nu);
            var eu = final.index_select(0, ui);
            var loss = BprTraining.Loss(BprTraining.RowDot(eu, final.index_select(0, ii)), BprTraining.RowDot(eu, final.index_select(0, ji)));
            var e0 = model.Embedding;
            return loss.Plus(e0.index_select(0, ui).Squared().sum().Plus(e0.index_select(0, ii).Squared().sum()).Times(reg / u.Length));
        }, beforeValidation: model.Refresh);
        var report = TrainingLoop.RunOrDispose(model, task, BprTraining.Loop(options.LearningRate, options.MaxEpochs, options.Patience, options.Seed, options.MinEpochs), progress, cancellationToken);
        model.BestEpoch = report.BestEpoch;
        model.Refresh(); // the kept epoch's weights, propagated
        return model;
    }

    /// <summary>final = (1/(K+1)) Σ_k Â^k E₀, differentiable.</summary>
    private Tensor Propagate()
    {
        using var scope = torch.NewDisposeScope();
        var e = Embedding.alias();
        var sum = e;
        for (int l = 0; l < _layers; l++)
        {
            e = _graph.Propagate(e);
            sum = sum.Plus(e);
        }
        return sum.Over(_layers + 1).MoveToOuterDisposeScope();
    }

    private void Refresh()
    {
        using var noGrad = torch.no_grad();
        var final = Propagate().DetachFromDisposeScope();
        var old = Interlocked.Exchange(ref _final, final);
        old?.Dispose();
    }

    /// <inheritdoc />
    public void ScoreUsers(ReadOnlySpan<int> users, Span<float> scores)
    {
        var final = _final ?? throw new InvalidOperationException("LightGCN has not been fitted.");
        using var scope = torch.NewDisposeScope();
        BprTraining.Score(final[TensorIndex.Slice(0, _users)], final[TensorIndex.Slice(_users, null)], users, scores);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _final?.Dispose();
        }
        base.Dispose(disposing);
    }
}

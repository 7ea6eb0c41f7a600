using HierRec.Data;
using HierRec.Evaluation;
using HierRec.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HierRec.Baselines;

/// <summary>
/// BPR matrix factorisation (Rendle et al., 2009): score(u, i) = ⟨p_u, q_i⟩, trained on −log σ(s(u, i⁺) − s(u, i⁻)) with
/// one uniformly sampled negative per positive, Adam, and early stopping on validation NDCG@10 (the best epoch's
/// embeddings are kept), on HierRec's training loop.
/// </summary>
/// <remarks>Thread-safe for scoring after fitting.</remarks>
public sealed class BprMf : nn.Module, IScoringModel
{
    /// <summary>Registers nothing by reflection: the constructor registers every component by name (<see cref="Training.TorchCheckpoint.State"/> says why).</summary>
    protected override void RegisterComponents() { }

    private BprMf(int users, int items, int d, Generator generator) : base(nameof(BprMf))
    {
        UserCount = users;
        ItemCount = items;
        Dimension = d;
        register_parameter("user_embedding", BprTraining.XavierNormal(users, d, generator));
        register_parameter("item_embedding", BprTraining.XavierNormal(items, d, generator));
    }

    /// <summary>Number of users.</summary>
    public int UserCount { get; }

    /// <inheritdoc/>
    public int MaxParallelism => 1;

    /// <inheritdoc />
    public int ItemCount { get; }

    /// <summary>Embedding size.</summary>
    public int Dimension { get; }

    /// <summary>The epoch whose embeddings were kept.</summary>
    public int BestEpoch { get; private set; }

    /// <summary>P (users, D).</summary>
    public Parameter Users => get_parameter("user_embedding")!;

    /// <summary>Q (items, D).</summary>
    public Parameter Items => get_parameter("item_embedding")!;

    /// <summary>Fits on <paramref name="train"/>, selecting the epoch by NDCG@10 on <paramref name="validation"/> when given.</summary>
    public static BprMf Fit(Dataset train, Dataset? validation, BprOptions? options = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        options ??= new BprOptions();
        options.Validate();
        var x = new InteractionMatrix(train);
        BprMf model;
        using (var generator = new Generator(options.Seed)) model = new BprMf(x.Users, x.Items, options.Dimension, generator);
        float l2 = options.L2;
        var task = new BprTraining.Task(model, model, x, train, validation, options.BatchSize, (u, i, j) =>
        {
            var device = model.Users.device;
            var pu = model.Users.index_select(0, torch.tensor(u, device: device));
            var qi = model.Items.index_select(0, torch.tensor(i, device: device));
            var qj = model.Items.index_select(0, torch.tensor(j, device: device));
            var loss = BprTraining.Loss(BprTraining.RowDot(pu, qi), BprTraining.RowDot(pu, qj));
            if (l2 == 0) return loss;
            return loss.Plus(pu.Squared().sum().Plus(qi.Squared().sum()).Plus(qj.Squared().sum()).Times(0.5 * l2 / u.Length));
        });
        var report = TrainingLoop.RunOrDispose(model, task, BprTraining.Loop(options.LearningRate, options.MaxEpochs, options.Patience, options.Seed, options.MinEpochs), progress, cancellationToken);
        model.BestEpoch = report.BestEpoch;
        return model;
    }

    /// <inheritdoc />
    public void ScoreUsers(ReadOnlySpan<int> users, Span<float> scores) => BprTraining.Score(Users, Items, users, scores);
}

using HierRec.Data;
using HierRec.Evaluation;
using HierRec.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace HierRec.Baselines;

/// <summary>
/// Mult-VAE (Liang et al., 2018) as RecBole implements it: a user's L2-normalised interaction row, dropped out, through
/// an encoder (items → hidden → latent, tanh between) whose output halves are the mean and log-variance; a decoder
/// (latent/2 → hidden → items) from z = μ + ε·σ with ε ~ N(0, 0.01²) in training (RecBole's noise scale) and z = μ when
/// scoring; loss −Σ x log softmax(decoder(z)) plus β·KL, β annealed linearly to a cap. Early stopping on validation
/// NDCG@10 on HierRec's training loop; the best epoch's weights are kept.
/// </summary>
/// <remarks>Scoring is single-call libtorch (MaxParallelism 1).</remarks>
public sealed class MultVae : nn.Module, IScoringModel
{
    /// <summary>Registers nothing by reflection: the constructor registers every component by name (<see cref="Training.TorchCheckpoint.State"/> says why).</summary>
    protected override void RegisterComponents() { }

    private readonly InteractionMatrix _x;
    private readonly Linear _enc1, _enc2, _dec1, _dec2;

    private MultVae(InteractionMatrix x, MultVaeOptions o, Generator generator) : base(nameof(MultVae))
    {
        _x = x;
        Options = o;
        _enc1 = Xavier(x.Items, o.Hidden, generator);
        _enc2 = Xavier(o.Hidden, o.Latent, generator);
        _dec1 = Xavier(o.Latent / 2, o.Hidden, generator);
        _dec2 = Xavier(o.Hidden, x.Items, generator);
        register_module("encoder_1", _enc1);
        register_module("encoder_2", _enc2);
        register_module("decoder_1", _dec1);
        register_module("decoder_2", _dec2);
    }

    /// <summary>Xavier-normal weights and zero biases, as RecBole's xavier_normal_initialization.</summary>
    private static Linear Xavier(int input, int output, Generator generator)
    {
        var layer = nn.Linear(input, output);
        using (torch.NewDisposeScope())
        using (torch.no_grad())
        {
            layer.weight!.normal_(0, Math.Sqrt(2.0 / (input + output)), generator);
            layer.bias!.zero_();
        }
        return layer;
    }

    /// <summary>The options it was fitted with.</summary>
    public MultVaeOptions Options { get; }

    /// <inheritdoc/>
    public int ItemCount => _x.Items;

    /// <inheritdoc/>
    public int MaxParallelism => 1;

    /// <summary>The epoch whose weights were kept.</summary>
    public int BestEpoch { get; private set; }

    /// <summary>Fits on <paramref name="train"/>, selecting the epoch by NDCG@10 on <paramref name="validation"/> when given.</summary>
    public static MultVae Fit(Dataset train, Dataset? validation, MultVaeOptions? options = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        options ??= new MultVaeOptions();
        options.Validate();
        var x = new InteractionMatrix(train);
        if (x.NonZeros == 0) throw new ArgumentException($"The training data '{train.Name}' has no interactions.", nameof(train));
        MultVae model;
        using (var generator = new Generator(options.Seed)) model = new MultVae(x, options, generator);
        var task = new VaeTask(model, x, train, validation, options);
        var report = TrainingLoop.RunOrDispose(model, task, BprTraining.Loop(options.LearningRate, options.MaxEpochs, options.Patience, options.Seed, options.MinEpochs), progress, cancellationToken);
        model.BestEpoch = report.BestEpoch;
        return model;
    }

    /// <summary>
    /// Dense 0/1 rows (B, items) of <paramref name="users"/>, picked from the whole matrix, built once: a step allocates
    /// one small index array, so the no-collection region of the training loop spans many steps (see NoCollection).
    /// </summary>
    private Tensor Rows(ReadOnlySpan<int> users, Device device)
    {
        if (_dense is null || _dense.device != device)
        {
            var data = new float[(long)_x.Users * _x.Items];
            for (int u = 0; u < _x.Users; u++)
                foreach (int i in _x.Row(u)) data[(long)u * _x.Items + i] = 1f;
            _dense?.Dispose();
            _dense = torch.tensor(data, [_x.Users, _x.Items], device: device).DetachFromDisposeScope();
        }
        var index = new long[users.Length];
        for (int r = 0; r < users.Length; r++) index[r] = users[r];
        return _dense.index_select(0, torch.tensor(index, device: device));
    }

    private Tensor? _dense;

    // Kept alive by these fields (see Scalars): a Mult-VAE run crashed mid-epoch in mul_Scalar with an implicit one.
    private static readonly Scalar Half = Scalars.Constant(0.5), NoiseScale = Scalars.Constant(0.01), One = Scalars.Constant(1.0);

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing) _dense?.Dispose();
        base.Dispose(disposing);
    }

    /// <summary>Decoder logits (B, items) and the encoder's μ and log σ² of rows <paramref name="x"/>.</summary>
    private (Tensor Logits, Tensor Mu, Tensor LogVar) Forward(Tensor x, Tensor? noise)
    {
        var h = nn.functional.normalize(x, p: 2, dim: 1);
        h = nn.functional.dropout(h, Options.Dropout, training);
        h = _enc2.forward(_enc1.forward(h).tanh());
        int half = Options.Latent / 2;
        var mu = h.narrow(1, 0, half);
        var logVar = h.narrow(1, half, half);
        var z = noise is null ? mu : mu.Plus(noise * logVar.mul(Half).exp());
        return (_dec2.forward(_dec1.forward(z).tanh()), mu, logVar);
    }

    /// <inheritdoc/>
    public void ScoreUsers(ReadOnlySpan<int> users, Span<float> scores)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        bool was = training;
        eval();
        try
        {
            var (logits, _, _) = Forward(Rows(users, _enc1.weight!.device), null);
            logits.to_type(ScalarType.Float32).cpu().contiguous().data<float>().CopyTo(scores);
        }
        finally
        {
            train(was);
        }
    }

    private sealed class VaeTask(MultVae model, InteractionMatrix x, Dataset train, Dataset? validation, MultVaeOptions o) : ValidatedTask(model, model, train, validation)
    {
        private readonly int[] _pairUsers = BprTraining.Pairs(x).Select(p => p.U).ToArray();

        public override int StepsPerEpoch => (_pairUsers.Length + o.BatchSize - 1) / o.BatchSize;

        public override string DataFingerprint => $"{x.Users} users, {x.Items} items, {x.NonZeros} interactions";

        public override IEnumerable<Func<Tensor?>> Epoch(int epoch, Rng rng)
        {
            var users = (int[])_pairUsers.Clone();
            rng.Shuffle(users.AsSpan());
            for (int s = 0, step = 0; s < users.Length; s += o.BatchSize, step++)
            {
                int start = s, b = Math.Min(o.BatchSize, users.Length - s);
                long update = (long)(epoch - 1) * StepsPerEpoch + step + 1; // RecBole's update counter, from the epoch: a resumed run anneals the same
                yield return () =>
                {
                    var device = model._enc1.weight!.device;
                    var rows = model.Rows(users.AsSpan(start, b), device);
                    var noise = torch.randn(b, o.Latent / 2, device: device).mul(NoiseScale);
                    var (logits, mu, logVar) = model.Forward(rows, noise);
                    double beta = o.AnnealSteps > 0 ? Math.Min(o.AnnealCap, (double)update / o.AnnealSteps) : o.AnnealCap;
                    var kl = (logVar.add(One, One) - mu.Squared() - logVar.exp()).sum(1).mean().Times(-0.5 * beta);
                    var ce = -(logits.log_softmax(1) * rows).sum(1).mean();
                    return ce.Plus(kl);
                };
            }
        }
    }
}

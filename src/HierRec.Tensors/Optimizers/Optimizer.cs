using System.Numerics.Tensors;

namespace HierRec.Tensors.Optimizers;

/// <summary>A group of parameters sharing a weight-decay setting.</summary>
/// <param name="Parameters">The tensors updated by the optimizer.</param>
/// <param name="WeightDecay">Decoupled weight decay applied to this group.</param>
public sealed record ParameterGroup(IReadOnlyList<Tensor> Parameters, float WeightDecay);

/// <summary>Base of the optimizers: a learning rate that schedules may change, and a step over gradients.</summary>
public abstract class Optimizer
{
    /// <summary>The learning rate used by the next <see cref="Step"/>.</summary>
    public float LearningRate { get; set; }

    /// <summary>Number of steps taken.</summary>
    public long StepCount { get; protected set; }

    /// <summary>Updates every parameter that has a gradient; parameters without one are skipped.</summary>
    public abstract void Step();

    /// <summary>Clears the gradients of all parameters this optimizer updates.</summary>
    public abstract void ZeroGrad();

    /// <summary>
    /// Scales all gradients so that their global L2 norm is at most <paramref name="maxNorm"/>; returns the norm before clipping.
    /// </summary>
    public static float ClipGradNorm(IEnumerable<Tensor> parameters, float maxNorm)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(maxNorm > 0)) throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "maxNorm must be positive.");
        var list = parameters.Where(p => p.Grad is not null).ToList();
        double sq = 0;
        foreach (var p in list) sq += TensorPrimitives.SumOfSquares(p.Grad!.Data);
        float norm = (float)Math.Sqrt(sq);
        if (norm > maxNorm)
        {
            float s = maxNorm / (norm + 1e-6f);
            foreach (var p in list) TensorPrimitives.Multiply(p.Grad!.Data, s, p.Grad!.Data);
        }
        return norm;
    }
}

/// <summary>
/// AdamW (Loshchilov &amp; Hutter): Adam with bias correction and decoupled weight decay
/// θ ← θ − lr·(m̂ / (√v̂ + ε) + λθ), as <c>torch.optim.AdamW</c>.
/// </summary>
public sealed class AdamW : Optimizer
{
    private readonly List<(Tensor P, float Decay, float[] M, float[] V)> _state = [];

    /// <summary>Creates the optimizer over explicit parameter groups.</summary>
    public AdamW(IEnumerable<ParameterGroup> groups, float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f)
    {
        ArgumentNullException.ThrowIfNull(groups);
        if (!(learningRate >= 0)) throw new ArgumentOutOfRangeException(nameof(learningRate));
        if (!(beta1 >= 0 && beta1 < 1)) throw new ArgumentOutOfRangeException(nameof(beta1));
        if (!(beta2 >= 0 && beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(beta2));
        LearningRate = learningRate;
        Beta1 = beta1;
        Beta2 = beta2;
        Eps = eps;
        foreach (var g in groups)
            foreach (var p in g.Parameters)
                _state.Add((p, g.WeightDecay, new float[p.Length], new float[p.Length]));
    }

    /// <summary>
    /// Creates the optimizer over named parameters, with <paramref name="weightDecay"/> on matrices and none on biases
    /// and LayerNorm weights (any 1-D parameter, or a name ending in "bias" or containing "LayerNorm"/"norm"), the
    /// usual BERT recipe. Frozen parameters (RequiresGrad false) are left out, so they get no optimizer state.
    /// </summary>
    public static AdamW Create(IEnumerable<(string Name, Tensor Parameter)> parameters, float learningRate = 1e-3f, float weightDecay = 0.01f,
        Func<string, Tensor, bool>? noDecay = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        noDecay ??= DefaultNoDecay;
        var decay = new List<Tensor>();
        var plain = new List<Tensor>();
        foreach (var (name, p) in parameters)
        {
            if (!p.RequiresGrad) continue;
            (noDecay(name, p) ? plain : decay).Add(p);
        }
        return new AdamW([new ParameterGroup(decay, weightDecay), new ParameterGroup(plain, 0f)], learningRate);
    }

    /// <summary>The default no-decay rule: 1-D tensors (biases, LayerNorm γ and β).</summary>
    public static bool DefaultNoDecay(string name, Tensor p) => p.Rank == 1 || name.EndsWith("bias", StringComparison.Ordinal);

    /// <summary>β₁.</summary>
    public float Beta1 { get; }

    /// <summary>β₂.</summary>
    public float Beta2 { get; }

    /// <summary>ε.</summary>
    public float Eps { get; }

    /// <summary>Number of tensors that carry optimizer state.</summary>
    public int StateCount => _state.Count;

    /// <summary>
    /// The moments, for checkpoints: "{i}.exp_avg" and "{i}.exp_avg_sq" for the i-th parameter in construction order
    /// (PyTorch's names), as copies. With <see cref="Optimizer.StepCount"/> they let <see cref="LoadState"/> continue exactly.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, Tensor>> StateTensors() =>
        _state.SelectMany((s, i) => new[]
        {
            new KeyValuePair<string, Tensor>($"{i}.exp_avg", Tensor.FromArray(s.M, s.M.Length)),
            new KeyValuePair<string, Tensor>($"{i}.exp_avg_sq", Tensor.FromArray(s.V, s.V.Length)),
        }).ToList();

    /// <summary>Restores moments written by <see cref="StateTensors"/> and the step count, for the same parameters in the same order.</summary>
    /// <exception cref="InvalidDataException">A moment is missing or has the wrong length (named, with <paramref name="source"/>).</exception>
    public void LoadState(IReadOnlyDictionary<string, Tensor> tensors, long stepCount, string source = "optimizer state")
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentOutOfRangeException.ThrowIfNegative(stepCount);
        if (tensors.Count != 2 * _state.Count)
            throw new InvalidDataException($"{source}: {tensors.Count} tensors for {_state.Count} parameters (2 moments each).");
        for (int i = 0; i < _state.Count; i++)
            foreach (var (name, target) in new[] { ($"{i}.exp_avg", _state[i].M), ($"{i}.exp_avg_sq", _state[i].V) })
            {
                if (!tensors.TryGetValue(name, out var t)) throw new InvalidDataException($"{source}: tensor '{name}' is missing.");
                if (t.Length != target.Length) throw new InvalidDataException($"{source}: tensor '{name}' has {t.Length} values; parameter {i} has {target.Length}.");
                t.Data.CopyTo(target);
            }
        StepCount = stepCount;
    }

    /// <inheritdoc />
    public override void Step()
    {
        StepCount++;
        float bc1 = 1f - MathF.Pow(Beta1, StepCount), bc2 = 1f - MathF.Pow(Beta2, StepCount);
        float lr = LearningRate, b1 = Beta1, b2 = Beta2, eps = Eps;
        float stepSize = lr / bc1, invSqrtBc2 = 1f / MathF.Sqrt(bc2);
        foreach (var (p, decay, m, v) in _state)
        {
            if (p.Grad is null) continue;
            var g = p.Grad.Data;
            var w = p.Data;
            if (decay != 0f) TensorPrimitives.Multiply(w, 1f - lr * decay, w);
            for (int i = 0; i < w.Length; i++)
            {
                float gi = g[i];
                float mi = m[i] = b1 * m[i] + (1f - b1) * gi;
                float vi = v[i] = b2 * v[i] + (1f - b2) * gi * gi;
                w[i] -= stepSize * mi / (MathF.Sqrt(vi) * invSqrtBc2 + eps);
            }
        }
    }

    /// <inheritdoc />
    public override void ZeroGrad()
    {
        foreach (var s in _state) s.P.Grad = null;
    }
}

/// <summary>SGD with (optional) momentum and weight decay, as <c>torch.optim.SGD</c>.</summary>
public sealed class Sgd : Optimizer
{
    private readonly List<(Tensor P, float[]? Buf)> _state = [];

    /// <summary>Creates the optimizer.</summary>
    public Sgd(IEnumerable<Tensor> parameters, float learningRate, float momentum = 0f, float weightDecay = 0f)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(momentum >= 0 && momentum < 1)) throw new ArgumentOutOfRangeException(nameof(momentum));
        LearningRate = learningRate;
        Momentum = momentum;
        WeightDecay = weightDecay;
        foreach (var p in parameters) if (p.RequiresGrad) _state.Add((p, momentum > 0 ? new float[p.Length] : null));
    }

    /// <summary>Momentum factor.</summary>
    public float Momentum { get; }

    /// <summary>L2 weight decay added to the gradient.</summary>
    public float WeightDecay { get; }

    /// <inheritdoc />
    public override void Step()
    {
        StepCount++;
        foreach (var (p, buf) in _state)
        {
            if (p.Grad is null) continue;
            var g = p.Grad.Data;
            var w = p.Data;
            for (int i = 0; i < w.Length; i++)
            {
                float d = g[i] + WeightDecay * w[i];
                if (buf is not null) d = buf[i] = StepCount == 1 ? d : Momentum * buf[i] + d;
                w[i] -= LearningRate * d;
            }
        }
    }

    /// <inheritdoc />
    public override void ZeroGrad()
    {
        foreach (var s in _state) s.P.Grad = null;
    }
}

/// <summary>Linear warm-up from 0 to the peak rate over <c>warmupSteps</c>, then linear decay to 0 at <c>totalSteps</c>.</summary>
public sealed class LinearWarmupDecaySchedule
{
    /// <summary>Creates the schedule.</summary>
    public LinearWarmupDecaySchedule(float peakLearningRate, int warmupSteps, int totalSteps)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(warmupSteps);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(totalSteps);
        if (warmupSteps > totalSteps) throw new ArgumentOutOfRangeException(nameof(warmupSteps), "Warm-up is longer than training.");
        Peak = peakLearningRate;
        WarmupSteps = warmupSteps;
        TotalSteps = totalSteps;
    }

    /// <summary>Peak learning rate.</summary>
    public float Peak { get; }

    /// <summary>Warm-up steps.</summary>
    public int WarmupSteps { get; }

    /// <summary>Total steps.</summary>
    public int TotalSteps { get; }

    /// <summary>The rate for 0-based <paramref name="step"/> (the rate of the step about to be taken).</summary>
    public float RateAt(long step)
    {
        if (step < WarmupSteps) return Peak * (step + 1) / WarmupSteps;
        if (step >= TotalSteps) return 0f;
        return Peak * (TotalSteps - step) / Math.Max(1, TotalSteps - WarmupSteps);
    }

    /// <summary>Sets the optimizer's rate for its next step.</summary>
    public void Apply(Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        optimizer.LearningRate = RateAt(optimizer.StepCount);
    }
}

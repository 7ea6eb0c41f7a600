namespace HierRec.Tensors.Layers;

/// <summary>y = x Wᵀ + b, weight (out, in) and bias (out) as in PyTorch; initialised N(0, <c>initStd</c>) or Kaiming-uniform.</summary>
public sealed class Linear : Module
{
    /// <summary>Creates the layer. With <paramref name="initStd"/> null, weights use PyTorch's default U(±1/√in).</summary>
    public Linear(int inFeatures, int outFeatures, Rng rng, bool bias = true, float? initStd = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inFeatures);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outFeatures);
        ArgumentNullException.ThrowIfNull(rng);
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        float bound = 1f / MathF.Sqrt(inFeatures);
        Weight = RegisterParameter("weight", initStd is float s
            ? Tensor.RandomNormal(rng, s, outFeatures, inFeatures)   // (out, in)
            : Tensor.RandomUniform(rng, -bound, bound, outFeatures, inFeatures));
        if (bias)
        {
            Bias = RegisterParameter("bias", initStd is null ? Tensor.RandomUniform(rng, -bound, bound, outFeatures) : Tensor.Zeros(outFeatures)); // (out)
        }
    }

    /// <summary>Input features.</summary>
    public int InFeatures { get; }

    /// <summary>Output features.</summary>
    public int OutFeatures { get; }

    /// <summary>(out, in)</summary>
    public Tensor Weight { get; }

    /// <summary>(out), or null.</summary>
    public Tensor? Bias { get; }

    /// <summary>LoRA down-projection A (rank, in), or null when no adapter is attached.</summary>
    public Tensor? LoraA { get; private set; }

    /// <summary>LoRA up-projection B (out, rank), zero at creation, or null.</summary>
    public Tensor? LoraB { get; private set; }

    /// <summary>The LoRA scale α / r (0 without an adapter).</summary>
    public float LoraScale { get; private set; }

    /// <summary>Whether a LoRA adapter is attached.</summary>
    public bool HasLora => LoraA is not null;

    /// <summary>
    /// Attaches a LoRA adapter (Hu et al., 2021): y = x Wᵀ + b + (α / r) · (x Aᵀ) Bᵀ, with A (r, in) drawn
    /// Kaiming-uniform as in PEFT and B (out, r) zero, so the layer's output is unchanged until B is trained.
    /// The adapter's parameters are registered as <c>lora_A</c> and <c>lora_B</c>; the base weight and bias are
    /// frozen. Use <see cref="MergeLora"/> to fold the adapter into the weight for inference.
    /// </summary>
    /// <exception cref="InvalidOperationException">An adapter is already attached.</exception>
    public void AddLora(int rank, float alpha, Rng rng)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rank);
        if (!(alpha > 0)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "LoRA alpha must be positive.");
        ArgumentNullException.ThrowIfNull(rng);
        if (HasLora) throw new InvalidOperationException("This Linear layer already has a LoRA adapter.");
        float bound = 1f / MathF.Sqrt(InFeatures);
        Weight.RequiresGrad = false;
        Weight.Grad = null;
        if (Bias is not null) { Bias.RequiresGrad = false; Bias.Grad = null; }
        LoraA = RegisterParameter("lora_A", Tensor.RandomUniform(rng, -bound, bound, rank, InFeatures)); // (r, in)
        LoraB = RegisterParameter("lora_B", Tensor.Zeros(OutFeatures, rank));                              // (out, r)
        LoraScale = alpha / rank;
    }

    /// <summary>Folds the adapter into the weight (W += (α / r) B A), removes it and unfreezes nothing.</summary>
    /// <exception cref="InvalidOperationException">No adapter is attached.</exception>
    public void MergeLora()
    {
        if (LoraA is null || LoraB is null) throw new InvalidOperationException("This Linear layer has no LoRA adapter to merge.");
        MergedWeight().Data.CopyTo(Weight.Data);
        UnregisterParameter("lora_A");
        UnregisterParameter("lora_B");
        LoraA = LoraB = null;
        LoraScale = 0f;
    }

    /// <summary>A copy of the weight with the adapter folded in, W + (α / r) B A (a plain copy without an adapter).</summary>
    public Tensor MergedWeight()
    {
        var w = Weight.Detach().Clone();
        if (LoraA is null || LoraB is null) return w;
        using (Autograd.GradMode.NoGrad())
        {
            var delta = Ops.MatMul(LoraB, LoraA); // (out, in)
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(delta.Data, LoraScale, w.Data, w.Data);
        }
        return w;
    }

    /// <summary>(…, in) → (…, out).</summary>
    public Tensor Forward(Tensor x)
    {
        var y = Ops.Linear(x, Weight, Bias);
        if (LoraA is null || LoraB is null) return y;
        return y + Ops.Scale(Ops.Linear(Ops.Linear(x, LoraA, null), LoraB, null), LoraScale);
    }
}

/// <summary>A lookup table of <c>count</c> vectors of <c>dim</c> values.</summary>
public sealed class Embedding : Module
{
    /// <summary>Creates the table, initialised N(0, <paramref name="initStd"/>).</summary>
    public Embedding(int count, int dim, Rng rng, float initStd = 1f)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dim);
        Weight = RegisterParameter("weight", Tensor.RandomNormal(rng, initStd, count, dim)); // (count, dim)
    }

    /// <summary>(count, dim)</summary>
    public Tensor Weight { get; }

    /// <summary>Gathers rows; the result has shape <paramref name="shape"/> + (dim), or (ids, dim).</summary>
    public Tensor Forward(int[] ids, params int[] shape) => Ops.Embedding(Weight, ids, shape);
}

/// <summary>Layer normalisation over the last axis with learned γ (ones) and β (zeros).</summary>
public sealed class LayerNorm : Module
{
    /// <summary>Creates the layer for rows of <paramref name="dim"/> values.</summary>
    public LayerNorm(int dim, float eps = 1e-12f)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dim);
        if (!(eps > 0)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "eps must be positive.");
        Eps = eps;
        Weight = RegisterParameter("weight", Tensor.Full(1f, dim)); // (dim) γ
        Bias = RegisterParameter("bias", Tensor.Zeros(dim));        // (dim) β
    }

    /// <summary>ε added to the variance.</summary>
    public float Eps { get; }

    /// <summary>γ (dim)</summary>
    public Tensor Weight { get; }

    /// <summary>β (dim)</summary>
    public Tensor Bias { get; }

    /// <summary>Normalises the last axis.</summary>
    public Tensor Forward(Tensor x) => Ops.LayerNorm(x, Weight, Bias, Eps);
}

/// <summary>Inverted dropout, active only in training mode.</summary>
public sealed class Dropout : Module
{
    private readonly Rng _rng;

    /// <summary>Creates the layer with drop probability <paramref name="p"/> and its own generator.</summary>
    public Dropout(float p, Rng rng)
    {
        if (p < 0f || p >= 1f) throw new ArgumentOutOfRangeException(nameof(p), p, "Dropout probability must be in [0, 1).");
        ArgumentNullException.ThrowIfNull(rng);
        P = p;
        _rng = rng.Fork();
    }

    /// <summary>Drop probability.</summary>
    public float P { get; }

    /// <summary>Applies dropout in training mode; identity in eval mode.</summary>
    public Tensor Forward(Tensor x) => Ops.Dropout(x, P, _rng, IsTraining);
}

/// <summary>An ordered list of sub-modules named "0", "1", … (PyTorch's <c>nn.ModuleList</c> naming).</summary>
public sealed class ModuleList<T> : Module where T : Module
{
    private readonly List<T> _items = [];

    /// <summary>Creates the list from <paramref name="items"/>, registering them in order.</summary>
    public ModuleList(IEnumerable<T> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        foreach (var m in items) _items.Add(RegisterModule(_items.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), m));
    }

    /// <summary>Number of modules.</summary>
    public int Count => _items.Count;

    /// <summary>The module at <paramref name="index"/>.</summary>
    public T this[int index] => _items[index];

    /// <summary>The modules in order.</summary>
    public IReadOnlyList<T> Items => _items;
}

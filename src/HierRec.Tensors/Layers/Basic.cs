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

    /// <summary>(…, in) → (…, out).</summary>
    public Tensor Forward(Tensor x) => Ops.Linear(x, Weight, Bias);
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

using HierRec.Tensors.Autograd;
using HierRec.Tensors.Kernels;

namespace HierRec.Tensors;

public static partial class Ops
{
    /// <summary>GELU, erf form (as BERT and <c>torch.nn.functional.gelu</c>).</summary>
    public static Tensor Gelu(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        var y = new Tensor(x.ShapeArray.ToArray());
        Activations.Gelu(x.Data, y.Data);
        if (GradMode.ShouldRecord(x))
        {
            y.GradFn = new LambdaNode("Gelu", (o, g) => Activations.GeluBackward(x.Data, g, x.GradBuffer()), x);
        }
        return y;
    }

    /// <summary>max(x, 0).</summary>
    public static Tensor Relu(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        var y = new Tensor(x.ShapeArray.ToArray());
        Activations.Relu(x.Data, y.Data);
        if (GradMode.ShouldRecord(x))
        {
            y.GradFn = new LambdaNode("Relu", (o, g) => Activations.ReluBackward(x.Data, g, x.GradBuffer()), x);
        }
        return y;
    }

    /// <summary>tanh(x).</summary>
    public static Tensor Tanh(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        var y = new Tensor(x.ShapeArray.ToArray());
        Activations.Tanh(x.Data, y.Data);
        if (GradMode.ShouldRecord(x))
        {
            y.GradFn = new LambdaNode("Tanh", (o, g) => Activations.TanhBackward(o.Data, g, x.GradBuffer()), x);
        }
        return y;
    }

    /// <summary>σ(x) = 1 / (1 + e^{−x}).</summary>
    public static Tensor Sigmoid(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        var y = new Tensor(x.ShapeArray.ToArray());
        Activations.Sigmoid(x.Data, y.Data);
        if (GradMode.ShouldRecord(x))
        {
            y.GradFn = new LambdaNode("Sigmoid", (o, g) => Activations.SigmoidBackward(o.Data, g, x.GradBuffer()), x);
        }
        return y;
    }

    /// <summary>Softmax over the last axis (max-subtracted; see <see cref="Kernels.Softmax"/>).</summary>
    public static Tensor Softmax(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        int cols = x.Rank == 0 ? 1 : x.Dim(-1);
        var y = new Tensor(x.ShapeArray.ToArray());
        Kernels.Softmax.Forward(x.Data, y.Data, cols);
        if (GradMode.ShouldRecord(x))
        {
            y.GradFn = new LambdaNode("Softmax", (o, g) => Kernels.Softmax.Backward(o.Data, g, x.GradBuffer(), cols), x);
        }
        return y;
    }

    /// <summary>Log-softmax over the last axis.</summary>
    public static Tensor LogSoftmax(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        int cols = x.Rank == 0 ? 1 : x.Dim(-1);
        var y = new Tensor(x.ShapeArray.ToArray());
        Kernels.Softmax.LogForward(x.Data, y.Data, cols);
        if (GradMode.ShouldRecord(x))
        {
            y.GradFn = new LambdaNode("LogSoftmax", (o, g) => Kernels.Softmax.LogBackward(o.Data, g, x.GradBuffer(), cols), x);
        }
        return y;
    }

    /// <summary>
    /// Inverted dropout: zeroes each element with probability <paramref name="p"/> and scales the rest by 1/(1−p),
    /// so that evaluation needs no rescaling. Identity when <paramref name="training"/> is false or p is 0.
    /// </summary>
    public static Tensor Dropout(Tensor x, float p, Rng rng, bool training)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(rng);
        if (p < 0f || p >= 1f) throw new ArgumentOutOfRangeException(nameof(p), p, "Dropout probability must be in [0, 1).");
        if (!training || p == 0f) return x;
        var mask = new float[x.Length];
        float keep = 1f / (1f - p);
        for (int i = 0; i < mask.Length; i++) mask[i] = rng.NextFloat() >= p ? keep : 0f;
        var y = new Tensor(x.ShapeArray.ToArray());
        System.Numerics.Tensors.TensorPrimitives.Multiply(x.Data, mask, y.Data);
        if (GradMode.ShouldRecord(x))
        {
            y.GradFn = new LambdaNode("Dropout", (o, g) =>
            {
                var dst = x.GradBuffer();
                System.Numerics.Tensors.TensorPrimitives.FusedMultiplyAdd(g, mask, dst, dst);
            }, x);
        }
        return y;
    }
}

namespace HierRec.Tensors.Autograd;

/// <summary>
/// One recorded operation of the autograd graph: the forward saved what its backward needs, and
/// <see cref="Backward"/> accumulates (<c>+=</c>) the input gradients from the output gradient.
/// </summary>
internal abstract class Node
{
    protected Node(params Tensor[] inputs) => Inputs = inputs;

    /// <summary>The op's inputs, in order; those that are not tracked receive no gradient.</summary>
    public Tensor[] Inputs { get; private set; }

    /// <summary>Set once the graph has been freed by a backward pass without retainGraph.</summary>
    public bool Released { get; private set; }

    /// <summary>A short name for error messages, e.g. "MatMul".</summary>
    public abstract string Name { get; }

    /// <summary>Accumulates into the inputs' gradients given the gradient of the output.</summary>
    /// <param name="output">The tensor this node produced (its shape is the gradient's).</param>
    /// <param name="gradOutput">d loss / d output.</param>
    public abstract void Backward(Tensor output, ReadOnlySpan<float> gradOutput);

    /// <summary>Drops saved tensors so their memory can be reclaimed.</summary>
    public void Release()
    {
        Released = true;
        Inputs = [];
        OnRelease();
    }

    /// <summary>Override to null out saved buffers.</summary>
    protected virtual void OnRelease() { }

    /// <summary>Whether input <paramref name="i"/> wants a gradient.</summary>
    protected bool Wants(int i) => Inputs[i].IsTracked;
}

/// <summary>A node whose backward is a delegate; for small ops where a class per op would be noise.</summary>
internal sealed class LambdaNode : Node
{
    private BackwardFn? _backward;
    private readonly string _name;

    public delegate void BackwardFn(Tensor output, ReadOnlySpan<float> gradOutput);

    public LambdaNode(string name, BackwardFn backward, params Tensor[] inputs) : base(inputs)
    {
        _name = name;
        _backward = backward;
    }

    public override string Name => _name;

    public override void Backward(Tensor output, ReadOnlySpan<float> gradOutput)
    {
        if (_backward is null) throw new InvalidOperationException($"The graph of {_name} was already freed.");
        _backward(output, gradOutput);
    }

    protected override void OnRelease() => _backward = null;
}

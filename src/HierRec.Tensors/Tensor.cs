using System.Runtime.CompilerServices;
using HierRec.Tensors.Autograd;

namespace HierRec.Tensors;

/// <summary>
/// A dense, row-major, contiguous float32 tensor that can take part in reverse-mode automatic differentiation.
/// </summary>
/// <remarks>
/// Storage is a managed array owned by the GC. <see cref="Reshape"/> and <see cref="SliceRows"/> return cheap views
/// over the same storage; every other operation allocates its result. A tensor is not thread-safe for concurrent
/// writers; concurrent readers of a tensor nobody writes are safe.
/// </remarks>
public sealed class Tensor
{
    private readonly int[] _shape;

    /// <summary>The backing array; the tensor's elements are <c>Storage[Offset .. Offset + Length]</c>.</summary>
    internal readonly float[] Storage;

    /// <summary>Index of the first element in <see cref="Storage"/>.</summary>
    internal readonly int Offset;

    /// <summary>The node of the autograd graph that produced this tensor, or <see langword="null"/> for a leaf.</summary>
    internal Node? GradFn;

    /// <summary>Creates a zero-filled tensor of the given shape.</summary>
    public Tensor(params int[] shape) : this(new float[CheckedLength(shape)], 0, shape) { }

    /// <summary>Wraps <paramref name="data"/> (not copied) as a tensor of the given shape.</summary>
    /// <exception cref="ArgumentException">The shape's element count differs from the data's length.</exception>
    public Tensor(float[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        long n = CheckedLength(shape);
        if (n != data.Length)
        {
            throw new ArgumentException($"Shape {ShapeString(shape)} holds {n} elements but the data has {data.Length}.", nameof(data));
        }
        Storage = data;
        Offset = 0;
        _shape = (int[])shape.Clone();
        Length = data.Length;
    }

    internal Tensor(float[] storage, int offset, int[] shape)
    {
        Storage = storage;
        Offset = offset;
        _shape = shape;
        Length = (int)CheckedLength(shape);
    }

    /// <summary>The tensor's dimensions, outermost first.</summary>
    public ReadOnlySpan<int> Shape => _shape;

    /// <summary>Number of dimensions.</summary>
    public int Rank => _shape.Length;

    /// <summary>Total number of elements.</summary>
    public int Length { get; }

    /// <summary>The elements in row-major order.</summary>
    public Span<float> Data => Storage.AsSpan(Offset, Length);

    /// <summary>Whether gradients are accumulated into <see cref="Grad"/> for this leaf tensor (a parameter).</summary>
    public bool RequiresGrad { get; set; }

    /// <summary>The accumulated gradient of a leaf tensor, allocated on the first backward pass that reaches it.</summary>
    public Tensor? Grad { get; set; }

    /// <summary>An optional name, used in error messages and checkpoints.</summary>
    public string? Name { get; set; }

    /// <summary>Whether this tensor is produced by an op whose inputs need gradients.</summary>
    public bool IsTracked => RequiresGrad || GradFn is not null;

    /// <summary>Size of dimension <paramref name="axis"/>; negative axes count from the end.</summary>
    public int Dim(int axis) => _shape[NormalizeAxis(axis, Rank)];

    /// <summary>Element access by full index (slow; for tests and small code).</summary>
    public float this[params int[] index]
    {
        get => Storage[Offset + FlatIndex(index)];
        set => Storage[Offset + FlatIndex(index)] = value;
    }

    /// <summary>A tensor of zeros.</summary>
    public static Tensor Zeros(params int[] shape) => new(shape);

    /// <summary>A tensor filled with <paramref name="value"/>.</summary>
    public static Tensor Full(float value, params int[] shape)
    {
        var t = new Tensor(shape);
        t.Data.Fill(value);
        return t;
    }

    /// <summary>Copies <paramref name="values"/> into a new tensor of the given shape.</summary>
    public static Tensor FromArray(ReadOnlySpan<float> values, params int[] shape)
    {
        var t = new Tensor(shape);
        if (values.Length != t.Length)
        {
            throw new ArgumentException($"Shape {ShapeString(shape)} holds {t.Length} elements but {values.Length} values were given.", nameof(values));
        }
        values.CopyTo(t.Data);
        return t;
    }

    /// <summary>Normal(0, std) values from a seeded generator.</summary>
    public static Tensor RandomNormal(Rng rng, float std, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(rng);
        var t = new Tensor(shape);
        rng.FillNormal(t.Data, 0f, std);
        return t;
    }

    /// <summary>Uniform values in [<paramref name="low"/>, <paramref name="high"/>) from a seeded generator.</summary>
    public static Tensor RandomUniform(Rng rng, float low, float high, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(rng);
        var t = new Tensor(shape);
        rng.FillUniform(t.Data, low, high);
        return t;
    }

    /// <summary>Copies the elements into a new array.</summary>
    public float[] ToArray() => Data.ToArray();

    /// <summary>The single element of a one-element tensor.</summary>
    public float ToScalar()
    {
        if (Length != 1)
        {
            throw new InvalidOperationException($"ToScalar() needs a one-element tensor; this one has shape {ShapeString(_shape)}.");
        }
        return Storage[Offset];
    }

    /// <summary>A detached deep copy (no autograd history, does not require grad).</summary>
    public Tensor Clone() => new(Data.ToArray(), 0, (int[])_shape.Clone()) { Name = Name };

    /// <summary>A view of the same storage without autograd history.</summary>
    public Tensor Detach() => new(Storage, Offset, _shape) { Name = Name };

    /// <summary>
    /// A view with another shape over the same elements; one dimension may be -1 and is inferred.
    /// Differentiable: the gradient flows back reshaped.
    /// </summary>
    public Tensor Reshape(params int[] shape) => Ops.Reshape(this, shape);

    /// <summary>Rows <c>[start, start + count)</c> of the outermost dimension, as a view (differentiable).</summary>
    public Tensor SliceRows(int start, int count) => Ops.SliceRows(this, start, count);

    /// <summary>
    /// Runs reverse-mode differentiation from this scalar (or with an explicit upstream gradient), accumulating
    /// into the <see cref="Grad"/> of every leaf that requires gradients.
    /// </summary>
    /// <param name="gradient">Upstream gradient of the same shape; <see langword="null"/> means 1 for a one-element tensor.</param>
    /// <param name="retainGraph">Keep the graph so that Backward can be called again.</param>
    /// <exception cref="InvalidOperationException">No graph reaches this tensor, or the graph was already freed.</exception>
    public void Backward(Tensor? gradient = null, bool retainGraph = false) => Graph.Backward(this, gradient, retainGraph);

    /// <summary>Zeros (drops) the accumulated gradient.</summary>
    public void ZeroGrad() => Grad = null;

    /// <inheritdoc />
    public override string ToString() => $"Tensor{ShapeString(_shape)}{(Name is null ? "" : " " + Name)}";

    /// <summary>Adds <paramref name="g"/> into this tensor's gradient buffer, allocating it if needed.</summary>
    internal void AccumulateGrad(ReadOnlySpan<float> g)
    {
        if (Grad is null)
        {
            Grad = NewGrad(clear: false);
            g.CopyTo(Grad.Data);
        }
        else
        {
            System.Numerics.Tensors.TensorPrimitives.Add(Grad.Data, g, Grad.Data);
        }
    }

    /// <summary>Returns the gradient buffer, allocating a zeroed one if needed (for kernels that accumulate in place).</summary>
    internal Span<float> GradBuffer()
    {
        Grad ??= NewGrad(clear: true);
        return Grad.Data;
    }

    /// <summary>Whether this tensor's storage came from <see cref="TensorMemory"/> (an intermediate's gradient).</summary>
    internal bool IsPooled { get; private init; }

    /// <summary>
    /// A gradient buffer of this tensor's shape: pooled for intermediates (GradFn set), whose gradient backward drops
    /// right after use; ordinary memory for leaves, whose gradient the user keeps.
    /// </summary>
    private Tensor NewGrad(bool clear)
    {
        if (GradFn is null) return new Tensor((int[])_shape.Clone());
        return new Tensor(TensorMemory.Rent(Length, clear), 0, (int[])_shape.Clone()) { IsPooled = true };
    }

    internal int[] ShapeArray => _shape;

    private int FlatIndex(int[] index)
    {
        if (index.Length != Rank)
        {
            throw new ArgumentException($"Index of rank {index.Length} for a tensor of shape {ShapeString(_shape)}.", nameof(index));
        }
        int flat = 0;
        for (int i = 0; i < index.Length; i++)
        {
            if ((uint)index[i] >= (uint)_shape[i])
            {
                throw new IndexOutOfRangeException($"Index {index[i]} out of range for dimension {i} of shape {ShapeString(_shape)}.");
            }
            flat = flat * _shape[i] + index[i];
        }
        return flat;
    }

    /// <summary>Formats a shape as <c>(2, 3, 4)</c>.</summary>
    public static string ShapeString(ReadOnlySpan<int> shape)
    {
        var parts = new string[shape.Length];
        for (int i = 0; i < shape.Length; i++) parts[i] = shape[i].ToString(System.Globalization.CultureInfo.InvariantCulture);
        return "(" + string.Join(", ", parts) + ")";
    }

    internal static long CheckedLength(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"Negative dimension in shape {ShapeString(shape)}.", nameof(shape));
            n *= d;
            if (n > Array.MaxLength) throw new ArgumentException($"Shape {ShapeString(shape)} is too large for one array.", nameof(shape));
        }
        return n;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int NormalizeAxis(int axis, int rank)
    {
        int a = axis < 0 ? axis + rank : axis;
        if ((uint)a >= (uint)rank) throw new ArgumentOutOfRangeException(nameof(axis), axis, $"Axis {axis} is out of range for rank {rank}.");
        return a;
    }

    /// <summary>Adds element-wise with broadcasting.</summary>
    public static Tensor operator +(Tensor a, Tensor b) => Ops.Add(a, b);

    /// <summary>Subtracts element-wise with broadcasting.</summary>
    public static Tensor operator -(Tensor a, Tensor b) => Ops.Sub(a, b);

    /// <summary>Multiplies element-wise with broadcasting.</summary>
    public static Tensor operator *(Tensor a, Tensor b) => Ops.Mul(a, b);

    /// <summary>Multiplies by a scalar.</summary>
    public static Tensor operator *(Tensor a, float s) => Ops.Scale(a, s);
}

namespace HierRec.Serialization;

/// <summary>
/// A named float32 array with a shape: what <see cref="SafeTensors"/> reads and writes, independent of any tensor
/// engine (libtorch tensors are copied in and out of it at the edges).
/// </summary>
public sealed class FloatTensor
{
    private readonly float[] _data;
    private readonly int[] _shape;

    /// <summary>A zero-filled tensor of <paramref name="shape"/>.</summary>
    public FloatTensor(params int[] shape) : this(new float[Count(shape)], shape)
    {
    }

    /// <summary>A tensor over <paramref name="data"/> (not copied) with <paramref name="shape"/>.</summary>
    /// <exception cref="ArgumentException">The data length is not the product of the shape.</exception>
    public FloatTensor(float[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(shape);
        if (data.Length != Count(shape)) throw new ArgumentException($"{data.Length} values do not fill shape {ShapeString(shape)}.", nameof(data));
        _data = data;
        _shape = (int[])shape.Clone();
    }

    /// <summary>Index of the first NaN or ±∞ in <paramref name="values"/>, or -1 when every value is finite.</summary>
    public static int IndexOfNonFinite(ReadOnlySpan<float> values)
    {
        // x − x is 0 for finite x and NaN for NaN and ±∞: one vectorised pass finds whether any is bad.
        var v = System.Runtime.InteropServices.MemoryMarshal.Cast<float, System.Numerics.Vector<float>>(values);
        for (int b = 0; b < v.Length; b++)
        {
            var d = v[b] - v[b];
            if (!System.Numerics.Vector.EqualsAll(d, System.Numerics.Vector<float>.Zero))
                for (int i = b * System.Numerics.Vector<float>.Count; ; i++) if (!float.IsFinite(values[i])) return i;
        }
        for (int i = v.Length * System.Numerics.Vector<float>.Count; i < values.Length; i++) if (!float.IsFinite(values[i])) return i;
        return -1;
    }

    /// <summary>A copy of <paramref name="data"/> with <paramref name="shape"/>.</summary>
    public static FloatTensor FromArray(ReadOnlySpan<float> data, params int[] shape) => new(data.ToArray(), shape);

    /// <summary>The values, row-major.</summary>
    public Span<float> Data => _data;

    /// <summary>The shape.</summary>
    public ReadOnlySpan<int> Shape => _shape;

    /// <summary>Number of dimensions.</summary>
    public int Rank => _shape.Length;

    /// <summary>Number of values.</summary>
    public int Length => _data.Length;

    /// <summary>The size of dimension <paramref name="axis"/>.</summary>
    public int Dim(int axis) => _shape[axis];

    /// <summary>The tensor's name in its file, or null.</summary>
    public string? Name { get; set; }

    /// <summary>A copy of the values.</summary>
    public float[] ToArray() => (float[])_data.Clone();

    /// <summary>Shape as "(a, b, c)".</summary>
    public static string ShapeString(ReadOnlySpan<int> shape) => "(" + string.Join(", ", shape.ToArray()) + ")";

    private static int Count(int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        long n = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentOutOfRangeException(nameof(shape), d, "Dimensions must be non-negative.");
            n = checked(n * d);
        }
        return checked((int)n);
    }
}

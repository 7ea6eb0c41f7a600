using TorchSharp;
using static TorchSharp.torch;
using EngineTensor = HierRec.Serialization.FloatTensor;

namespace HierRec;

/// <summary>
/// Copies between HierRec's float arrays (the safetensors reader's tensors) and libtorch tensors. Temporaries are made
/// inside a dispose scope: a TorchSharp tensor left to the GC is freed on the finalizer thread while libtorch works on
/// another, which corrupts libtorch's heap (the crash a service saw after many reloads).
/// </summary>
internal static class TorchInterop
{
    /// <summary>A float32 libtorch tensor with the same shape and values, on <paramref name="device"/>.</summary>
    public static Tensor ToTorch(EngineTensor t, Device? device = null)
    {
        var shape = t.Shape.ToArray().Select(d => (long)d).ToArray();
        var x = torch.tensor(t.ToArray(), shape, dtype: ScalarType.Float32);
        if (device is null || device.type == DeviceType.CPU) return x;
        using (x) return x.to(device);
    }

    /// <summary>A float array tensor with the values of <paramref name="t"/> (copied to the CPU as float32).</summary>
    public static EngineTensor ToEngine(Tensor t)
    {
        using var scope = torch.NewDisposeScope(); // the chain's temporaries die here, never on the finalizer thread
        var cpu = t.detach().to(ScalarType.Float32).cpu().contiguous();
        var shape = cpu.shape.Select(d => checked((int)d)).ToArray();
        return new EngineTensor(cpu.data<float>().ToArray(), shape);
    }

    /// <summary>
    /// A detached copy of <paramref name="t"/> that the caller owns, made outside any scope the caller has: the
    /// <c>detach()</c> alias is freed here, not left to the finalizer thread.
    /// </summary>
    public static Tensor DetachedCopy(Tensor t)
    {
        using var scope = torch.NewDisposeScope();
        return t.detach().clone().DetachFromDisposeScope();
    }

    /// <summary>The values of <paramref name="t"/> as a row-major float array (copied to the CPU as float32).</summary>
    public static float[] ToFloats(Tensor t)
    {
        using var scope = torch.NewDisposeScope(); // the chain's temporaries die here, never on the finalizer thread
        return t.detach().to_type(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
    }

    /// <summary>The rows of a (n, d) tensor as float arrays.</summary>
    public static float[][] ToRows(Tensor t)
    {
        var all = ToFloats(t);
        int n = (int)t.shape[0], d = n == 0 ? 0 : all.Length / n;
        var rows = new float[n][];
        for (int r = 0; r < n; r++) rows[r] = all.AsSpan(r * d, d).ToArray();
        return rows;
    }

    /// <summary>(rows, cols) int64 tensor of <paramref name="values"/>.</summary>
    public static Tensor Int64(int[] values, long rows, long cols, Device device)
    {
        var longs = new long[values.Length];
        for (int i = 0; i < values.Length; i++) longs[i] = values[i];
        return torch.tensor(longs, [rows, cols], dtype: ScalarType.Int64, device: device);
    }

    /// <summary>Shape as "(a, b, c)".</summary>
    public static string ShapeString(ReadOnlySpan<long> shape) => "(" + string.Join(", ", shape.ToArray()) + ")";
}

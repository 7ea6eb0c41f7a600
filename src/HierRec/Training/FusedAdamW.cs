using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HierRec.Training;

/// <summary>
/// AdamW (β = 0.9, 0.999, ε = 1e-8, decoupled weight decay) as one fused pass per parameter over libtorch's CPU
/// float32 buffers: the moments live in managed arrays and each element is read and written once per step, where
/// TorchSharp's AdamW makes about ten libtorch calls (ten passes over memory) per parameter. The same arithmetic as
/// <c>torch.optim.AdamW</c> (PyTorch's non-fused CPU formula), checked against it in the tests.
/// </summary>
/// <remarks>CPU float32 parameters only (<see cref="Supports"/>); elsewhere the loop uses TorchSharp's AdamW.</remarks>
public sealed class FusedAdamW : IDisposable
{
    private readonly (Parameter Parameter, double WeightDecay, float[] M, float[] V)[] _slots;
    private long _step;

    private const double Beta1 = 0.9, Beta2 = 0.999, Epsilon = 1e-8;

    /// <summary>Creates the optimizer over <paramref name="groups"/>: parameters and their decoupled weight decay.</summary>
    public FusedAdamW(IEnumerable<(Parameter Parameter, double WeightDecay)> groups, double learningRate)
    {
        ArgumentNullException.ThrowIfNull(groups);
        _slots = groups.Select(g =>
        {
            if (!Supports(g.Parameter)) throw new ArgumentException($"FusedAdamW takes contiguous CPU float32 parameters; got {g.Parameter.dtype} on {g.Parameter.device}.", nameof(groups));
            long n = g.Parameter.numel();
            return (g.Parameter, g.WeightDecay, new float[n], new float[n]);
        }).ToArray();
        LearningRate = learningRate;
    }

    /// <summary>Whether a parameter can be updated in place here.</summary>
    public static bool Supports(Tensor parameter) =>
        parameter.device.type == DeviceType.CPU && parameter.dtype == ScalarType.Float32 && parameter.is_contiguous();

    /// <summary>The rate of the next step.</summary>
    public double LearningRate { get; set; }

    /// <summary>Steps taken (AdamW's bias-correction count).</summary>
    public long StepCount => _step;

    /// <summary>Zeroes every gradient in place, as TorchSharp's optimizers do.</summary>
    public void ZeroGrad()
    {
        using var noGrad = torch.no_grad();
        foreach (var (p, _, _, _) in _slots)
        {
            var g = p.grad;
            if (g is not null && !g.IsInvalid) g.zero_();
        }
    }

    /// <summary>One AdamW step over every parameter that has a gradient.</summary>
    public void Step()
    {
        _step++;
        double bc1 = 1 - Math.Pow(Beta1, _step), bc2 = 1 - Math.Pow(Beta2, _step);
        float lr = (float)LearningRate;
        float stepSize = (float)(LearningRate / bc1), invSqrtBc2 = (float)(1 / Math.Sqrt(bc2));
        foreach (var (p, wd, m, v) in _slots)
        {
            var grad = p.grad;
            if (grad is null || grad.IsInvalid) continue;
            using var g = grad.is_contiguous() ? grad.alias() : grad.contiguous();
            var ps = MemoryMarshal.Cast<byte, float>(p.bytes);
            var gs = MemoryMarshal.Cast<byte, float>(g.bytes);
            float decay = (float)(1 - LearningRate * wd);
            Update(ps, gs, m, v, decay, stepSize, invSqrtBc2);
        }
    }

    private static unsafe void Update(Span<float> p, ReadOnlySpan<float> g, float[] m, float[] v, float decay, float stepSize, float invSqrtBc2)
    {
        int n = p.Length;
        fixed (float* pp = p, pg = g, pm = m, pv = v)
        {
            nint ap = (nint)pp, ag = (nint)pg, am = (nint)pm, av = (nint)pv;
            const int Chunk = 1 << 16;
            int chunks = (n + Chunk - 1) / Chunk;
            void Run(int c)
            {
                int start = c * Chunk, end = Math.Min(n, start + Chunk);
                Range((float*)ap, (float*)ag, (float*)am, (float*)av, start, end, decay, stepSize, invSqrtBc2);
            }
            if (chunks > 1) Parallel.For(0, chunks, Run);
            else Run(0);
        }
    }

    private static unsafe void Range(float* p, float* g, float* m, float* v, int start, int end, float decay, float stepSize, float invSqrtBc2)
    {
        const float b1 = (float)Beta1, b2 = (float)Beta2, eps = (float)Epsilon;
        int i = start;
        if (Vector256.IsHardwareAccelerated)
        {
            var vb1 = Vector256.Create(b1);
            var vb1c = Vector256.Create(1 - b1);
            var vb2 = Vector256.Create(b2);
            var vb2c = Vector256.Create(1 - b2);
            var vdecay = Vector256.Create(decay);
            var vstep = Vector256.Create(stepSize);
            var vinv = Vector256.Create(invSqrtBc2);
            var veps = Vector256.Create(eps);
            for (; i <= end - 8; i += 8)
            {
                var gi = Vector256.Load(g + i);
                var mi = vb1 * Vector256.Load(m + i) + vb1c * gi;
                var vi = vb2 * Vector256.Load(v + i) + vb2c * gi * gi;
                mi.Store(m + i);
                vi.Store(v + i);
                var denom = Vector256.Sqrt(vi) * vinv + veps;
                (vdecay * Vector256.Load(p + i) - vstep * mi / denom).Store(p + i);
            }
        }
        for (; i < end; i++)
        {
            float gi = g[i];
            float mi = m[i] = b1 * m[i] + (1 - b1) * gi;
            float vi = v[i] = b2 * v[i] + (1 - b2) * gi * gi;
            p[i] = decay * p[i] - stepSize * mi / (MathF.Sqrt(vi) * invSqrtBc2 + eps);
        }
    }

    /// <summary>Writes the step count and both moments of every parameter.</summary>
    public void Save(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write("hierrec-fused-adamw-1");
        writer.Write(_step);
        writer.Write(_slots.Length);
        foreach (var (_, _, m, v) in _slots)
        {
            writer.Write(m.Length);
            writer.Write(MemoryMarshal.AsBytes(m.AsSpan()));
            writer.Write(MemoryMarshal.AsBytes(v.AsSpan()));
        }
    }

    /// <summary>Reads a state written by <see cref="Save"/> for the same parameters.</summary>
    /// <exception cref="InvalidDataException">The state is of another optimizer or other parameters.</exception>
    public void Load(BinaryReader reader, string source)
    {
        ArgumentNullException.ThrowIfNull(reader);
        if (reader.ReadString() != "hierrec-fused-adamw-1") throw new InvalidDataException($"{source}: not a HierRec AdamW state.");
        long step = reader.ReadInt64();
        int count = reader.ReadInt32();
        if (count != _slots.Length) throw new InvalidDataException($"{source}: the state holds {count} parameters; the model has {_slots.Length}.");
        foreach (var (_, _, m, v) in _slots)
        {
            int n = reader.ReadInt32();
            if (n != m.Length) throw new InvalidDataException($"{source}: a parameter of {n} values in the state has {m.Length} in the model.");
            try
            {
                reader.BaseStream.ReadExactly(MemoryMarshal.AsBytes(m.AsSpan()));
                reader.BaseStream.ReadExactly(MemoryMarshal.AsBytes(v.AsSpan()));
            }
            catch (EndOfStreamException ex)
            {
                throw new InvalidDataException($"{source}: truncated.", ex);
            }
        }
        _step = step;
    }

    /// <summary>Nothing native to release; the moments are managed arrays.</summary>
    public void Dispose()
    {
    }
}

using System.Numerics;

namespace HierRec;

/// <summary>
/// A small, fast, seedable pseudo-random generator (xoshiro128** seeded by SplitMix64) whose sequence is fixed
/// forever, unlike <see cref="System.Random"/>, so that results reproduce across .NET versions.
/// </summary>
/// <remarks>Not thread-safe: give each thread its own instance (see <see cref="Fork"/>).</remarks>
public sealed class Rng
{
    private uint _s0, _s1, _s2, _s3;
    private float _spare;
    private bool _hasSpare;

    /// <summary>Creates a generator from a 64-bit seed.</summary>
    public Rng(ulong seed)
    {
        ulong z = seed;
        ulong a = SplitMix(ref z), b = SplitMix(ref z);
        _s0 = (uint)a; _s1 = (uint)(a >> 32); _s2 = (uint)b; _s3 = (uint)(b >> 32);
        if ((_s0 | _s1 | _s2 | _s3) == 0) _s0 = 1;
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The generator's whole state (six words), for checkpoints: <see cref="SetState"/> continues the same sequence.</summary>
    public uint[] GetState() => [_s0, _s1, _s2, _s3, BitConverter.SingleToUInt32Bits(_spare), _hasSpare ? 1u : 0u];

    /// <summary>Restores a state from <see cref="GetState"/>.</summary>
    /// <exception cref="ArgumentException">Not six words, or an all-zero generator state.</exception>
    public void SetState(ReadOnlySpan<uint> state)
    {
        if (state.Length != 6) throw new ArgumentException($"An Rng state has 6 words; got {state.Length}.", nameof(state));
        if ((state[0] | state[1] | state[2] | state[3]) == 0) throw new ArgumentException("An all-zero xoshiro state is invalid.", nameof(state));
        (_s0, _s1, _s2, _s3) = (state[0], state[1], state[2], state[3]);
        _spare = BitConverter.UInt32BitsToSingle(state[4]);
        _hasSpare = state[5] != 0;
    }

    /// <summary>The next 32 random bits.</summary>
    public uint NextUInt()
    {
        uint result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        uint t = _s1 << 9;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 11);
        return result;
    }

    /// <summary>A uniform float in [0, 1).</summary>
    public float NextFloat() => (NextUInt() >> 8) * (1f / (1 << 24));

    /// <summary>A uniform double in [0, 1).</summary>
    public double NextDouble() => (((ulong)NextUInt() << 21) ^ (NextUInt() >> 11)) * (1.0 / (1UL << 53));

    /// <summary>A uniform integer in [0, <paramref name="maxExclusive"/>) without modulo bias.</summary>
    public int NextInt(int maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxExclusive);
        ulong m = (ulong)NextUInt() * (ulong)maxExclusive;
        uint l = (uint)m;
        if (l < (uint)maxExclusive)
        {
            uint t = (uint)(-maxExclusive) % (uint)maxExclusive;
            while (l < t)
            {
                m = (ulong)NextUInt() * (ulong)maxExclusive;
                l = (uint)m;
            }
        }
        return (int)(m >> 32);
    }

    /// <summary>A standard normal sample (Box-Muller).</summary>
    public float NextNormal()
    {
        if (_hasSpare)
        {
            _hasSpare = false;
            return _spare;
        }
        double u1 = 1.0 - NextDouble(), u2 = NextDouble();
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        _spare = (float)(r * Math.Sin(2 * Math.PI * u2));
        _hasSpare = true;
        return (float)(r * Math.Cos(2 * Math.PI * u2));
    }

    /// <summary>Fills with Normal(mean, std) samples.</summary>
    public void FillNormal(Span<float> destination, float mean, float std)
    {
        for (int i = 0; i < destination.Length; i++) destination[i] = mean + std * NextNormal();
    }

    /// <summary>Fills with Uniform[low, high) samples.</summary>
    public void FillUniform(Span<float> destination, float low, float high)
    {
        float w = high - low;
        for (int i = 0; i < destination.Length; i++) destination[i] = low + w * NextFloat();
    }

    /// <summary>Shuffles in place (Fisher-Yates).</summary>
    public void Shuffle<T>(Span<T> values)
    {
        for (int i = values.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }

    /// <summary>A new independent generator derived from this one's stream.</summary>
    public Rng Fork() => new(((ulong)NextUInt() << 32) | NextUInt());
}

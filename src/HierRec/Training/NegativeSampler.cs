using HierRec.Data;

namespace HierRec.Training;

/// <summary>Draws negative items uniformly or by popularity^0.75.</summary>
internal sealed class NegativeSampler
{
    private readonly double[]? _cumulative;
    private readonly float[] _probability;

    private NegativeSampler(double[]? cumulative, float[] probability)
    {
        _cumulative = cumulative;
        _probability = probability;
    }

    public static NegativeSampler Create(Dataset train, int items, NegativeSampling kind)
    {
        if (kind == NegativeSampling.Uniform) return new NegativeSampler(null, Enumerable.Repeat(1f / items, items).ToArray());
        var counts = new double[items];
        foreach (var x in train.Interactions) counts[x.Item] += 1;
        var w = counts.Select(c => Math.Pow(c + 1, 0.75)).ToArray();
        double sum = w.Sum(), acc = 0;
        var cumulative = new double[items];
        for (int i = 0; i < items; i++) { acc += w[i] / sum; cumulative[i] = acc; }
        return new NegativeSampler(cumulative, w.Select(v => (float)(v / sum)).ToArray());
    }

    public int Next(Rng rng)
    {
        if (_cumulative is null) return rng.NextInt(_probability.Length);
        int i = Array.BinarySearch(_cumulative, rng.NextDouble());
        return Math.Min(i < 0 ? ~i : i, _probability.Length - 1);
    }

    public float Probability(int item) => _probability[item];
}

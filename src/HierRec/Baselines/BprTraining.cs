using HierRec.Tensors;

namespace HierRec.Baselines;

/// <summary>Pieces shared by the BPR-trained baselines: triples, the BPR term, and early stopping.</summary>
internal static class BprTraining
{
    /// <summary>Every (user, item) pair of the matrix, row by row.</summary>
    public static (int U, int I)[] Pairs(InteractionMatrix x)
    {
        var pairs = new (int U, int I)[x.NonZeros];
        for (int u = 0, t = 0; u < x.Users; u++) foreach (int i in x.Row(u)) pairs[t++] = (u, i);
        return pairs;
    }

    /// <summary>A uniformly drawn item the user has not interacted with.</summary>
    public static int SampleNegative(InteractionMatrix x, int u, Rng rng)
    {
        int j;
        do j = rng.NextInt(x.Items); while (x.Row(u).BinarySearch(j) >= 0);
        return j;
    }

    /// <summary>
    /// Adds −log σ(diff) = softplus(−diff) to <paramref name="lossSum"/> (computed without overflow) and returns
    /// d loss / d diff = −σ(−diff), scaled by <paramref name="scale"/> (1 / batch size).
    /// </summary>
    public static float Term(float diff, float scale, ref double lossSum)
    {
        lossSum += diff > 0 ? Math.Log(1 + Math.Exp(-diff)) : -diff + Math.Log(1 + Math.Exp(diff));
        return -1f / (1f + MathF.Exp(diff)) * scale;
    }
}

/// <summary>Keeps the best validation score and says when <c>patience</c> epochs have passed without improving on it.</summary>
internal sealed class EarlyStopper(int patience)
{
    private int _sinceBest;

    public double Best { get; private set; } = double.NegativeInfinity;

    public int BestEpoch { get; private set; }

    /// <summary>Records an epoch's score; <paramref name="improved"/> tells the caller to snapshot; returns true to stop.</summary>
    public bool Observe(int epoch, double score, out bool improved)
    {
        improved = score > Best;
        if (improved)
        {
            Best = score;
            BestEpoch = epoch;
            _sinceBest = 0;
            return false;
        }
        return ++_sinceBest >= patience;
    }
}

namespace HierRec.Ranking;

/// <summary>
/// A bounded min-heap of (score, index) keeping the best <c>capacity</c> entries; the root is the worst kept entry.
/// Order: higher score first, and for equal scores the lower index first (so results are deterministic).
/// </summary>
internal struct TopKHeap
{
    private readonly float[] _scores;
    private readonly int[] _ids;

    public TopKHeap(float[] scores, int[] ids, int capacity)
    {
        _scores = scores;
        _ids = ids;
        Capacity = capacity;
        Count = 0;
    }

    public int Capacity { get; }

    public int Count { get; private set; }

    public readonly bool IsFull => Count == Capacity;

    /// <summary>Score an entry must beat to get in (−∞ until full).</summary>
    public readonly float Threshold => Count == Capacity ? _scores[0] : float.NegativeInfinity;

    /// <summary>a is worse than b: lower score, or equal score and higher index.</summary>
    private static bool Worse(float sa, int ia, float sb, int ib) => sa < sb || (sa == sb && ia > ib);

    /// <summary>Whether (score, id) would enter the heap.</summary>
    public readonly bool Accepts(float score, int id) => Count < Capacity || Worse(_scores[0], _ids[0], score, id);

    public void Push(float score, int id)
    {
        if (Capacity == 0) return;
        if (Count < Capacity)
        {
            int i = Count++;
            while (i > 0)
            {
                int parent = (i - 1) >> 1;
                if (!Worse(score, id, _scores[parent], _ids[parent])) break;
                _scores[i] = _scores[parent];
                _ids[i] = _ids[parent];
                i = parent;
            }
            _scores[i] = score;
            _ids[i] = id;
            return;
        }
        if (!Worse(_scores[0], _ids[0], score, id)) return;
        SiftDown(score, id);
    }

    private void SiftDown(float score, int id)
    {
        int i = 0, n = Count;
        while (true)
        {
            int l = 2 * i + 1;
            if (l >= n) break;
            int r = l + 1, w = l;
            if (r < n && Worse(_scores[r], _ids[r], _scores[l], _ids[l])) w = r;
            if (!Worse(_scores[w], _ids[w], score, id)) break;
            _scores[i] = _scores[w];
            _ids[i] = _ids[w];
            i = w;
        }
        _scores[i] = score;
        _ids[i] = id;
    }

    /// <summary>Copies the entries out best first; returns how many.</summary>
    public readonly int DrainSorted(Span<float> scores, Span<int> ids)
    {
        int n = Count;
        for (int i = 0; i < n; i++)
        {
            scores[i] = _scores[i];
            ids[i] = _ids[i];
        }
        // Best first: score descending, index ascending. n is k-sized, so an insertion-friendly sort is fine.
        var keys = scores[..n];
        var vals = ids[..n];
        for (int i = 1; i < n; i++)
        {
            float s = keys[i];
            int id = vals[i];
            int j = i - 1;
            while (j >= 0 && Worse(keys[j], vals[j], s, id))
            {
                keys[j + 1] = keys[j];
                vals[j + 1] = vals[j];
                j--;
            }
            keys[j + 1] = s;
            vals[j + 1] = id;
        }
        return n;
    }
}

/// <summary>Running log-sum-exp of scores/T, merged across blocks and threads without overflow.</summary>
internal struct LogSumExp
{
    public float Max;
    public double Sum;

    public static LogSumExp Empty => new() { Max = float.NegativeInfinity, Sum = 0 };

    /// <summary>
    /// Folds in a block of raw scores as z = score·invT in one fused pass: block max, then Σ e^{z − m} with the
    /// scaling, subtraction, exponential and sum done per vector (no intermediate array).
    /// </summary>
    public void AddScaled(ReadOnlySpan<float> scores, float invT)
    {
        if (scores.IsEmpty) return;
        float blockMax = System.Numerics.Tensors.TensorPrimitives.Max(scores) * invT;
        if (float.IsNegativeInfinity(blockMax) || float.IsNaN(blockMax)) return;
        float m = Math.Max(Max, blockMax);
        double sum = HierRec.Ranking.Kernels.Exponential.SumExpNonPositive(scores, invT, -m);
        Sum = Sum * Math.Exp(Max - m) + sum;
        Max = m;
    }

    /// <summary>
    /// A copy in which the terms e^{old·invT} are replaced by e^{new·invT} (used when approximate scores are re-scored
    /// exactly). Computed relative to the larger maximum; the result never drops below the new terms' own sum.
    /// </summary>
    public readonly LogSumExp ReplaceTerms(ReadOnlySpan<float> oldScores, ReadOnlySpan<float> newScores, float invT)
    {
        float newMax = float.NegativeInfinity;
        foreach (float v in newScores) newMax = Math.Max(newMax, v * invT);
        float m = Math.Max(Max, newMax);
        if (float.IsNegativeInfinity(m)) return this;
        double removed = 0, added = 0;
        foreach (float v in oldScores) removed += Math.Exp(Math.Min(0, v * (double)invT - m));
        foreach (float v in newScores) added += Math.Exp(Math.Min(0, v * (double)invT - m));
        double rest = Math.Max(0, Sum * Math.Exp(Max - m) - removed);
        return new LogSumExp { Max = m, Sum = rest + added };
    }

    public void Merge(LogSumExp other)
    {
        if (float.IsNegativeInfinity(other.Max)) return;
        float m = Math.Max(Max, other.Max);
        Sum = Sum * Math.Exp(Max - m) + other.Sum * Math.Exp(other.Max - m);
        Max = m;
    }

    public readonly double Value => Max + Math.Log(Sum);
}

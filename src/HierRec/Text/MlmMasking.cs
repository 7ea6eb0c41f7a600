
namespace HierRec.Text;

/// <summary>BERT's masking rule for MLM pre-training.</summary>
public static class MlmMasking
{
    /// <summary>
    /// Chooses each real, non-special token with probability <paramref name="probability"/> (at least one per batch); a
    /// chosen token becomes [MASK] 80% of the time, a random non-special token 10%, and stays 10%. Returns the masked batch
    /// and the labels (the original id at chosen positions, −100 elsewhere).
    /// </summary>
    public static (BertBatch Masked, int[] Labels) Mask(BertBatch batch, Rng rng, int maskId, int vocabSize, IReadOnlySet<int> specialIds, float probability = 0.15f)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(rng);
        ArgumentNullException.ThrowIfNull(specialIds);
        if (!(probability > 0 && probability < 1)) throw new ArgumentOutOfRangeException(nameof(probability), probability, "Masking probability must be in (0, 1).");
        var ids = (int[])batch.InputIds.Clone();
        var labels = new int[ids.Length];
        labels.AsSpan().Fill(-100);
        var candidates = new List<int>();
        for (int i = 0; i < ids.Length; i++)
            if (batch.AttentionMask[i] == 1 && !specialIds.Contains(ids[i])) candidates.Add(i);
        if (candidates.Count == 0) return (batch, labels);
        int chosen = 0;
        foreach (int i in candidates)
            if (rng.NextFloat() < probability) { Apply(i); chosen++; }
        if (chosen == 0) Apply(candidates[rng.NextInt(candidates.Count)]);
        return (new BertBatch(ids, batch.TokenTypeIds, batch.AttentionMask, batch.BatchSize, batch.Length), labels);

        void Apply(int i)
        {
            labels[i] = ids[i];
            float r = rng.NextFloat();
            if (r < 0.8f) ids[i] = maskId;
            else if (r < 0.9f)
            {
                int t;
                do t = rng.NextInt(vocabSize); while (specialIds.Contains(t));
                ids[i] = t;
            }
        }
    }
}

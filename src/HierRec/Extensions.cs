using HierRec.Tensors;
using HierRec.Tensors.Autograd;

namespace HierRec;

/// <summary>Conveniences over <see cref="IEncoder{TInput}"/>: single inputs and large batches, as plain floats.</summary>
public static class EncoderExtensions
{
    /// <summary>Encodes one input without recording gradients.</summary>
    public static float[] EncodeOne<TInput>(this IEncoder<TInput> encoder, TInput input)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        using (GradMode.NoGrad()) return encoder.Encode([input]).ToArray();
    }

    /// <summary>
    /// Encodes many inputs in batches of <paramref name="batchSize"/> without recording gradients; row i of the result is
    /// inputs[i] (inputs.Count × Dimension).
    /// </summary>
    public static Tensor EncodeAll<TInput>(this IEncoder<TInput> encoder, IReadOnlyList<TInput> inputs, int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        int d = encoder.Dimension;
        var result = new Tensor(inputs.Count, d);
        using (GradMode.NoGrad())
            for (int s = 0; s < inputs.Count; s += batchSize)
            {
                int n = Math.Min(batchSize, inputs.Count - s);
                var chunk = encoder.Encode(inputs.Skip(s).Take(n).ToArray());
                if (chunk.Rank != 2 || chunk.Dim(0) != n || chunk.Dim(1) != d)
                    throw new InvalidOperationException($"{encoder.GetType().Name}.Encode returned {Tensor.ShapeString(chunk.Shape)} for {n} inputs; expected ({n}, {d}).");
                chunk.Data.CopyTo(result.Data.Slice(s * d, n * d));
            }
        return result;
    }
}

/// <summary>Conveniences over <see cref="IScorer"/> for one user.</summary>
public static class ScorerExtensions
{
    /// <summary>The score of one user vector against one item vector.</summary>
    public static float Score(this IScorer scorer, ReadOnlySpan<float> user, ReadOnlySpan<float> item)
    {
        ArgumentNullException.ThrowIfNull(scorer);
        if (user.Length != item.Length) throw new ArgumentException($"User ({user.Length}) and item ({item.Length}) vectors differ in length.", nameof(item));
        using (GradMode.NoGrad())
            return scorer.ScorePairs(Tensor.FromArray(user, 1, user.Length), Tensor.FromArray(item, 1, item.Length)).ToScalar();
    }

    /// <summary>The scores of one user vector against every row of <paramref name="items"/> (items, D).</summary>
    public static float[] ScoreAll(this IScorer scorer, ReadOnlySpan<float> user, Tensor items)
    {
        ArgumentNullException.ThrowIfNull(scorer);
        ArgumentNullException.ThrowIfNull(items);
        using (GradMode.NoGrad()) return scorer.ScoreMatrix(Tensor.FromArray(user, 1, user.Length), items).ToArray();
    }
}

/// <summary>Conveniences over <see cref="IFusion"/> for one user.</summary>
public static class FusionExtensions
{
    /// <summary>Fuses one user's layer vectors; <paramref name="contributions"/> are the layers' shares.</summary>
    public static float[] FuseOne(this IFusion fusion, IReadOnlyList<float[]> layers, out float[] contributions)
    {
        ArgumentNullException.ThrowIfNull(fusion);
        ArgumentNullException.ThrowIfNull(layers);
        using (GradMode.NoGrad())
        {
            var fused = fusion.Fuse(layers.Select(l => Tensor.FromArray(l, 1, l.Length)).ToArray(), out var c);
            contributions = c.ToArray();
            return fused.ToArray();
        }
    }
}

/// <summary>Conveniences over <see cref="IFineTuner{TModel, TData, TReport}"/>.</summary>
public static class FineTunerExtensions
{
    /// <summary>
    /// Fits with a callback for progress, invoked synchronously on the training thread (unlike
    /// <see cref="Progress{T}"/>, which posts to a synchronisation context and may run late or out of order).
    /// </summary>
    public static TReport Fit<TModel, TData, TReport>(this IFineTuner<TModel, TData, TReport> tuner, TModel model, TData data,
        Action<TrainingProgress> onProgress, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tuner);
        ArgumentNullException.ThrowIfNull(onProgress);
        return tuner.Fit(model, data, new SyncProgress(onProgress), cancellationToken);
    }

    /// <summary>An <see cref="IProgress{T}"/> that calls <paramref name="onProgress"/> synchronously.</summary>
    public static IProgress<TrainingProgress> Synchronous(Action<TrainingProgress> onProgress) => new SyncProgress(onProgress ?? throw new ArgumentNullException(nameof(onProgress)));

    private sealed class SyncProgress(Action<TrainingProgress> onProgress) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => onProgress(value);
    }
}

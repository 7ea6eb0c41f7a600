namespace HierRec;

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

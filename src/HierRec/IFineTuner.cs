namespace HierRec;

/// <summary>
/// Fits a model's trainable parameters on training data, with validation for early stopping.
/// </summary>
/// <typeparam name="TModel">The model being fitted.</typeparam>
/// <typeparam name="TData">The training and validation data (e.g. a dataset and its split).</typeparam>
/// <typeparam name="TReport">What the run reports (losses, best epoch, validation metrics, wall time).</typeparam>
/// <remarks>
/// Contract: only parameters that require gradients change. The run honours the cancellation token between
/// steps. It leaves the model at its best validated weights; without validation, at its final weights after success and
/// at the weights it started with after a failure or cancellation (never half-trained).
/// A non-finite loss stops the run with an <see cref="InvalidOperationException"/> naming the epoch and step. Not
/// thread-safe: do not serve from the model while it is being fitted. The implementations in HierRec share one loop,
/// <see cref="Training.TrainingLoop"/>.
/// </remarks>
public interface IFineTuner<in TModel, in TData, out TReport>
{
    /// <summary>Fits <paramref name="model"/> on <paramref name="data"/>.</summary>
    TReport Fit(TModel model, TData data, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default);
}

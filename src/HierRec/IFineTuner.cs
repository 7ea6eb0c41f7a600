namespace HierRec;

/// <summary>Progress of a fine-tuning run, reported after steps and after each validation.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="Step">Optimizer steps so far.</param>
/// <param name="TotalSteps">Steps planned (an upper bound under early stopping).</param>
/// <param name="TrainingLoss">Mean loss of the last step or epoch.</param>
/// <param name="ValidationMetric">The validation metric (e.g. NDCG@10) after an epoch; null after an ordinary step.</param>
/// <param name="Message">A short human-readable phase ("encoding items", "validating", …), or null.</param>
public sealed record TrainingProgress(int Epoch, long Step, long TotalSteps, double TrainingLoss, double? ValidationMetric, string? Message = null);

/// <summary>
/// Fits a model's trainable parameters on training data, with validation for early stopping.
/// </summary>
/// <typeparam name="TModel">The model being fitted.</typeparam>
/// <typeparam name="TData">The training and validation data (e.g. a dataset and its split).</typeparam>
/// <typeparam name="TReport">What the run reports (losses, best epoch, validation metrics, wall time).</typeparam>
/// <remarks>
/// Contract: only parameters that require gradients change. The run honours the cancellation token between
/// steps and leaves the model at its last finished step (or at the best checkpoint when the implementation keeps one).
/// A non-finite loss stops the run with an <see cref="InvalidOperationException"/> naming the step. Not thread-safe: do
/// not serve from the model while it is being fitted unless the implementation says so.
/// </remarks>
public interface IFineTuner<in TModel, in TData, out TReport>
{
    /// <summary>Fits <paramref name="model"/> on <paramref name="data"/>.</summary>
    TReport Fit(TModel model, TData data, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default);
}

namespace HierRec;

/// <summary>Progress of a run (BERT pre-training, fine-tuning, a closed-form solve), reported once per step and once per epoch.</summary>
/// <param name="Kind">Phase start, step or epoch end.</param>
/// <param name="Phase">Which run reports: "pre-training BERT", "training", "solving", …</param>
/// <param name="Epoch">1-based epoch (0 in a phase report).</param>
/// <param name="Epochs">Epochs planned (an upper bound under early stopping); 0 when not epoch-based.</param>
/// <param name="Step">Optimizer steps so far in this phase.</param>
/// <param name="TotalSteps">Steps planned in this phase (an upper bound under early stopping); 0 when unknown.</param>
/// <param name="Loss">The step's loss, or the epoch's mean; null in a phase report.</param>
/// <param name="ValidationMetric">The validation metric after an epoch (see <paramref name="MetricName"/>), or null.</param>
/// <param name="MetricName">Name of the validation metric ("ndcg@10", "perplexity"), or null.</param>
/// <param name="Message">A short human-readable line, or null.</param>
public sealed record TrainingProgress(ProgressKind Kind, string Phase, int Epoch, int Epochs, long Step, long TotalSteps, double? Loss,
    double? ValidationMetric = null, string? MetricName = null, string? Message = null)
{
    /// <summary>A phase report.</summary>
    public static TrainingProgress PhaseStarted(string phase, string message) => new(ProgressKind.Phase, phase, 0, 0, 0, 0, null, Message: message);

    /// <inheritdoc/>
    public override string ToString() => Kind switch
    {
        ProgressKind.Phase => $"{Phase}: {Message}",
        ProgressKind.Step => $"{Phase}: epoch {Epoch}/{Epochs}, step {Step}/{TotalSteps}, loss {Loss:F4}",
        _ => $"{Phase}: epoch {Epoch}/{Epochs} done, loss {Loss:F4}" + (ValidationMetric is double v ? $", {MetricName} {v:F4}" : "") + (Message is null ? "" : $" ({Message})"),
    };
}

namespace HierRec.Text;

/// <summary>What pre-training did.</summary>
/// <param name="InitialPerplexity">Held-out perplexity before training.</param>
/// <param name="EpochPerplexities">Held-out perplexity after each epoch.</param>
/// <param name="EpochLosses">Mean training loss of each epoch.</param>
/// <param name="Steps">Optimizer steps taken.</param>
/// <param name="Elapsed">Wall time.</param>
public sealed record MlmReport(double InitialPerplexity, IReadOnlyList<double> EpochPerplexities, IReadOnlyList<double> EpochLosses, long Steps, TimeSpan Elapsed);

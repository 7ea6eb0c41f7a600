using Microsoft.Extensions.Logging;

namespace HierRec.Extensions;

/// <summary>Training progress as log entries: pass it as the <c>progress</c> of any Fit (HierRec never prints).</summary>
public sealed partial class TrainingProgressLogger(ILogger logger) : IProgress<TrainingProgress>
{
    /// <inheritdoc/>
    public void Report(TrainingProgress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        Log(logger, value.ToString());
    }

    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Training: {Progress}")]
    private static partial void Log(ILogger logger, string progress);
}

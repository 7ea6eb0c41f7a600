namespace HierRec.Data;

/// <summary>Options shared by the loaders.</summary>
public sealed class LoadOptions
{
    /// <summary>Strict (default) or lenient handling of malformed lines.</summary>
    public ErrorMode ErrorMode { get; init; } = ErrorMode.Strict;

    /// <summary>Receives what a lenient load skipped; null to discard.</summary>
    public LoadReport? Report { get; init; }

    internal static readonly LoadOptions Default = new();

    /// <summary>Throws in strict mode, records in lenient mode.</summary>
    internal void Fail(DataFormatException problem)
    {
        if (ErrorMode == ErrorMode.Strict) throw problem;
        Report?.Add(problem);
    }
}

namespace HierRec.Data;

/// <summary>Options shared by the loaders.</summary>
public sealed class LoadOptions
{
    /// <summary>Strict (default) or lenient handling of malformed lines.</summary>
    public ErrorMode ErrorMode { get; init; } = ErrorMode.Strict;

    /// <summary>Receives what a lenient load skipped; null to discard.</summary>
    public LoadReport? Report { get; init; }

    /// <summary>
    /// Longest line accepted, in bytes (16 MiB by default): a longer one is a malformed line (an error, or skipped in
    /// lenient mode), so one runaway field cannot take the process's memory.
    /// </summary>
    public int MaxLineBytes { get; init; } = 16 << 20;

    /// <summary>How user and item ids are compared. Default <see cref="IdNormalization.Exact"/>.</summary>
    public IdNormalization Ids { get; init; } = IdNormalization.Exact;

    internal static readonly LoadOptions Default = new();

    /// <summary>Checks the options (called by every loader).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An enum value that is not defined, named.</exception>
    public void Validate()
    {
        OptionChecks.Defined("LoadOptions.ErrorMode", ErrorMode);
        OptionChecks.Defined("LoadOptions.Ids", Ids);
        OptionChecks.Range("LoadOptions.MaxLineBytes", MaxLineBytes, 1024);
    }

    /// <summary>The id as <see cref="Ids"/> says to compare it (null stays null).</summary>
    internal string? NormalizeId(string? id)
    {
        if (id is null || Ids == IdNormalization.Exact) return id;
        string trimmed = id.Trim();
        if (Ids == IdNormalization.IntegerValue && System.Numerics.BigInteger.TryParse(trimmed, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var value))
            return value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return trimmed;
    }

    /// <summary>Throws in strict mode, records in lenient mode.</summary>
    internal void Fail(DataFormatException problem)
    {
        if (ErrorMode == ErrorMode.Strict) throw problem;
        Report?.Add(problem);
    }
}

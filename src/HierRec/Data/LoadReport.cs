namespace HierRec.Data;

/// <summary>What a lenient load skipped.</summary>
public sealed class LoadReport
{
    private readonly List<DataFormatException> _problems = [];

    /// <summary>Lines skipped.</summary>
    public int SkippedLines => _problems.Count;

    /// <summary>Every skipped line's problem, in file order.</summary>
    public IReadOnlyList<DataFormatException> Problems => _problems;

    internal void Add(DataFormatException problem) => _problems.Add(problem);

    /// <inheritdoc />
    public override string ToString() => SkippedLines == 0 ? "no lines skipped" :
        $"{SkippedLines} line(s) skipped; first: {_problems[0].Message}";
}

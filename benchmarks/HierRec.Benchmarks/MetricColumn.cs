using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace HierRec.Benchmarks;

/// <summary>
/// A numeric BenchmarkDotNet column computed from a case's mean time (ns): work per case / mean, e.g. GFLOP/s or GB/s.
/// </summary>
public sealed class MetricColumn(string id, string name, string legend, Func<BenchmarkCase, double> workPerNanosecond) : IColumn
{
    public string Id => id;
    public string ColumnName => name;
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => legend;
    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    /// <summary>The case's work (flops or bytes) divided by its mean time in nanoseconds: GFLOP/s or GB/s.</summary>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var report = summary[benchmarkCase];
        return report?.ResultStatistics is null ? "NA"
            : (workPerNanosecond(benchmarkCase) / report.ResultStatistics.Mean).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
    }
}

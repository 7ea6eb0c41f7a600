using System.Text;
using System.Text.Json;

namespace HierRec.Evaluation;

/// <summary>Averaged metrics of one evaluation: "ndcg@10" → value, plus item coverage and the number of users.</summary>
/// <param name="Metrics">Metric name (lower case, "@k") → mean over evaluated users (coverage: share of the catalogue).</param>
/// <param name="Users">Users evaluated (those with at least one target item).</param>
public sealed record EvaluationResult(IReadOnlyDictionary<string, double> Metrics, int Users)
{
    /// <summary>A metric by name, e.g. "ndcg@10".</summary>
    public double this[string metric] => Metrics[metric];

    /// <summary>A Markdown table row set: one row per metric.</summary>
    public string ToMarkdown(string title = "metric")
    {
        var sb = new StringBuilder();
        sb.AppendLine($"| {title} | value |").AppendLine("|---|---:|");
        foreach (var (k, v) in Metrics) sb.AppendLine($"| {k} | {v:F4} |");
        return sb.ToString();
    }

    /// <summary>JSON: {"users": n, "metrics": {...}}.</summary>
    public string ToJson() => JsonSerializer.Serialize(new { users = Users, metrics = Metrics }, new JsonSerializerOptions { WriteIndented = true });

    /// <inheritdoc />
    public override string ToString() => string.Join("  ", Metrics.Select(kv => $"{kv.Key}={kv.Value:F4}"));
}

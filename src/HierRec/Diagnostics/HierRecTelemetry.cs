using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace HierRec.Diagnostics;

/// <summary>
/// HierRec's metrics and traces, both named <see cref="Name"/>: with OpenTelemetry, <c>AddMeter("HierRec")</c> and
/// <c>AddSource("HierRec")</c> are all a service needs. Names follow the OpenTelemetry semantic-convention style
/// (lower-case, dot-separated, units in UCUM).
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term><c>hierrec.request.duration</c></term><description>histogram, s: one serving stage of one request; tags
/// <c>hierrec.operation</c> (recommend, recommend_new_user, explain, dynamic_recommend) and <c>hierrec.stage</c>
/// (encode, rank, rerank, explain).</description></item>
/// <item><term><c>hierrec.candidates.scored</c></term><description>counter, {item}: items scored by the ranker or the
/// re-ranker; tag <c>hierrec.stage</c>.</description></item>
/// <item><term><c>hierrec.update.interactions</c></term><description>counter, {interaction}: interactions learnt from
/// by <c>DynamicRecommender.Update</c>.</description></item>
/// <item><term><c>hierrec.update.duration</c></term><description>histogram, s: one <c>Update</c>.</description></item>
/// <item><term><c>hierrec.model.swaps</c></term><description>counter, {swap}: a new model or snapshot put in service;
/// tag <c>hierrec.model</c> (the model's name, or "dynamic").</description></item>
/// <item><term><c>hierrec.folder.recoveries</c></term><description>counter, {recovery}: saved folders repaired after
/// an interrupted save.</description></item>
/// </list>
/// Activities: <c>HierRec.Recommend</c>, <c>HierRec.RecommendNewUser</c>, <c>HierRec.Explain</c>,
/// <c>HierRec.DynamicRecommend</c>, <c>HierRec.Update</c> (started only when someone listens).
/// </remarks>
public static class HierRecTelemetry
{
    /// <summary>The meter's and the activity source's name: "HierRec".</summary>
    public const string Name = "HierRec";

    private static readonly string? Version = typeof(HierRecTelemetry).Assembly.GetName().Version?.ToString();

    /// <summary>The meter.</summary>
    public static Meter Meter { get; } = new(Name, Version);

    /// <summary>The activity source.</summary>
    public static ActivitySource ActivitySource { get; } = new(Name, Version);

    internal static readonly Histogram<double> RequestDuration = Meter.CreateHistogram<double>("hierrec.request.duration", "s", "Duration of one serving stage of one request.");
    internal static readonly Counter<long> CandidatesScored = Meter.CreateCounter<long>("hierrec.candidates.scored", "{item}", "Items scored by the ranker or the re-ranker.");
    internal static readonly Counter<long> UpdateInteractions = Meter.CreateCounter<long>("hierrec.update.interactions", "{interaction}", "Interactions learnt from by DynamicRecommender.Update.");
    internal static readonly Histogram<double> UpdateDuration = Meter.CreateHistogram<double>("hierrec.update.duration", "s", "Duration of one DynamicRecommender.Update.");

    /// <summary>Counts model swaps; the service layer (HierRec.Extensions) and the dynamic recommender report here.</summary>
    public static Counter<long> ModelSwaps { get; } = Meter.CreateCounter<long>("hierrec.model.swaps", "{swap}", "A new model or snapshot put in service.");

    internal static readonly Counter<long> FolderRecoveries = Meter.CreateCounter<long>("hierrec.folder.recoveries", "{recovery}", "Saved folders repaired after an interrupted save.");

    /// <summary>Records one stage's duration since <paramref name="start"/> (a <see cref="Stopwatch.GetTimestamp"/>); returns the new timestamp.</summary>
    internal static long Stage(string operation, string stage, long start)
    {
        long now = Stopwatch.GetTimestamp();
        if (RequestDuration.Enabled)
            RequestDuration.Record(Stopwatch.GetElapsedTime(start, now).TotalSeconds, new KeyValuePair<string, object?>("hierrec.operation", operation), new KeyValuePair<string, object?>("hierrec.stage", stage));
        return now;
    }

    internal static void Scored(string stage, long count)
    {
        if (CandidatesScored.Enabled) CandidatesScored.Add(count, new KeyValuePair<string, object?>("hierrec.stage", stage));
    }
}

using System.Diagnostics;
using System.Diagnostics.Metrics;
using HierRec.Diagnostics;
using HierRec.Tests.Reliability;

namespace HierRec.Tests.Diagnostics;

public sealed class TelemetryTests
{
    [Fact]
    public void Recommend_RecordsEachStage_CountsCandidates_AndStartsAnActivity()
    {
        var (split, r, _) = HostileFolder.Saved.Value;
        var stages = new List<(string Operation, string Stage, double Seconds)>();
        long scored = 0;
        using var meters = new MeterListener();
        meters.InstrumentPublished = (i, l) => { if (i.Meter.Name == HierRecTelemetry.Name) l.EnableMeasurementEvents(i); };
        meters.SetMeasurementEventCallback<double>((i, v, tags, _) =>
        {
            if (i.Name != "hierrec.request.duration") return;
            string op = "", stage = "";
            foreach (var t in tags)
            {
                if (t.Key == "hierrec.operation") op = (string)t.Value!;
                if (t.Key == "hierrec.stage") stage = (string)t.Value!;
            }
            lock (stages) stages.Add((op, stage, v));
        });
        meters.SetMeasurementEventCallback<long>((i, v, _, _) => { if (i.Name == "hierrec.candidates.scored") Interlocked.Add(ref scored, v); });
        meters.Start();
        var activities = new List<string>();
        using var source = new ActivityListener
        {
            ShouldListenTo = s => s.Name == HierRecTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = a => { lock (activities) activities.Add(a.OperationName); },
        };
        ActivitySource.AddActivityListener(source);

        string user = split.Train.Users.ToExternal(6);
        var top = r.Recommend(user, 5);
        r.Explain(user, top[0].ItemId);

        Assert.Contains(stages, s => s is { Operation: "recommend", Stage: "encode" } && s.Seconds >= 0);
        Assert.Contains(stages, s => s is { Operation: "recommend", Stage: "rank" });
        Assert.Contains(stages, s => s is { Operation: "explain", Stage: "explain" });
        Assert.True(Interlocked.Read(ref scored) >= r.ItemIds.Count);
        Assert.Contains("HierRec.Recommend", activities);
        Assert.Contains("HierRec.Explain", activities);
    }
}

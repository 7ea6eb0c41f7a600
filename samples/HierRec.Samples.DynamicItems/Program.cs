// HierRec.Samples.DynamicItems: items whose representation depends on the user's recent history and the moment.
//
//   dotnet run -c Release --project samples/HierRec.Samples.DynamicItems                 # synthetic data, one day replayed
//   dotnet run -c Release --project samples/HierRec.Samples.DynamicItems -- --dataset ml-100k --data ../shared/data --evaluate
//
// 1. Order the interactions by time: the first 70 % of the time span trains the hierarchical model (the static item
//    vectors E_i and the user encoder), the next 10 % fits the dynamic layers (S_i = E_i + g ⊙ Attn(E_i, [history;
//    context])) on interactions the base model never saw, and the last 20 % is the stream.
// 2. Scenario: replay one day of a user's stream hour by hour; each hour print the top 10's categories, and
//    feed the hour's interactions to Update, so both the time of day and new events move the list.
//    Then a new item appearing: the new item of the stream with the most interactions in its first three days, where
//    it stands for a user who takes it up, before the stream and after the stream up to that moment was learnt from,
//    whether that user takes up new items (and so is served a place kept for one, the default), and the list with the
//    place kept for every user (MovieLens-100K; the synthetic data has no new items).
// 3. With --evaluate (--seed N for the initialisations): prequential evaluation over the stream in daily chunks
//    (recommend first, then learn) of the static model, the dynamic representation without updates, with updates, and
//    the ablations; the hit rate on new items and the share of lists showing one, against MostPopular; and latency of
//    both serving stages on one core.
using System.Diagnostics;
using HierRec;
using HierRec.Data;
using HierRec.Evaluation;
using HierRec.Items;
using HierRec.Text;
using HierRec.Training;
using Spectre.Console;

string dataset = "synthetic", dataRoot = "../shared/data";
bool evaluate = false;
string evaluateOn = "test";
ulong seed = 1; // of every initialisation (the time split is fixed)
double keptMargin = double.PositiveInfinity; // the kept place's margin in the evaluation's "one place kept" rows
double[] keptAudiences = [];                 // audiences of extra evaluation rows, "one place kept … (audience m)" (the default row has the option's default)
for (int a = 0; a < args.Length; a++)
{
    string next = a + 1 < args.Length ? args[a + 1] : "";
    switch (args[a])
    {
        case "--dataset": dataset = next; a++; break;
        case "--data": dataRoot = next; a++; break;
        case "--evaluate": evaluate = true; break;
        case "--evaluate-on": evaluateOn = next; a++; break; // "validation": every cut 10 % earlier, the stream ends at 80 %
        case "--seed": seed = ulong.Parse(next, System.Globalization.CultureInfo.InvariantCulture); a++; break;
        case "--kept-margin": keptMargin = double.Parse(next, System.Globalization.CultureInfo.InvariantCulture); a++; break;
        case "--kept-audience": keptAudiences = next.Split(',').Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray(); a++; break;
        default: throw new ArgumentException($"Unknown argument '{args[a]}' (--dataset, --data, --evaluate, --evaluate-on test|validation, --seed N, --kept-margin M, --kept-audience A[,A…]).");
    }
}

var total = Stopwatch.StartNew();
var data = dataset switch
{
    // The synthetic users do each category at its own time of day (category c mostly between 6c and 6c + 6 o'clock).
    "synthetic" => SyntheticDataset.Generate(new SyntheticOptions { TimeOfDaySignal = 0.7 }),
    "ml-100k" => MovieLens100K.Load(Path.Combine(dataRoot, "ml-100k")),
    _ => throw new ArgumentException($"Unknown dataset '{dataset}' (synthetic or ml-100k: the stream needs timestamps)."),
};
data = Splits.Deduplicate(Splits.ToImplicit(data));

// Step 1: split by time.
long t0 = data.Interactions.Min(x => x.Timestamp), t1 = data.Interactions.Max(x => x.Timestamp);
// MovieLens: 70 % / 10 % / 20 % of the time span. The synthetic users are spread over a shorter span, so the dynamic
// layers get 50 % to 80 % there, to have enough interactions to learn from.
// With --evaluate-on validation every cut moves 10 % earlier and the stream stops at 80 %: design choices are made there.
double shift = evaluateOn == "validation" ? 0.1 : 0, baseShare = (dataset == "synthetic" ? 0.5 : 0.7) - shift;
long cutBase = t0 + (long)(baseShare * (t1 - t0)), cutDynamic = t0 + (long)((0.8 - shift) * (t1 - t0));
long streamEnd = evaluateOn == "validation" ? t0 + (long)(0.8 * (t1 - t0)) : long.MaxValue;
var basePart = data.WithInteractions(data.Interactions.Where(x => x.Timestamp < cutBase).ToList(), data.Name + "/base");
var dynamicPart = data.WithInteractions(data.Interactions.Where(x => x.Timestamp >= cutBase && x.Timestamp < cutDynamic).ToList(), data.Name + "/dynamic");
var stream = data.Interactions.Where(x => x.Timestamp >= cutDynamic && x.Timestamp < streamEnd).OrderBy(x => x.Timestamp).ToList();
AnsiConsole.MarkupLine($"[bold]{data.Name}[/]: base {basePart.Interactions.Count}, dynamic fit {dynamicPart.Interactions.Count}, stream {stream.Count} interactions "
    + $"({DateTimeOffset.FromUnixTimeSeconds(cutDynamic):yyyy-MM-dd} to {DateTimeOffset.FromUnixTimeSeconds(t1):yyyy-MM-dd})");

HierarchicalRecommender baseModel = null!;
DynamicRecommender dynamic = null!;
var dynamicOptions = new DynamicOptions { Seed = seed };
AnsiConsole.Progress().AutoRefresh(false).AutoClear(false).Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
    .Start(ctx =>
    {
        // Rendered from the training thread (AutoRefresh off): no background thread allocates while libtorch runs.
        var refresh = System.Diagnostics.Stopwatch.StartNew();
        void Tick()
        {
            if (refresh.ElapsedMilliseconds < 250) return;
            ctx.Refresh();
            refresh.Restart();
        }
        var baseTask = ctx.AddTask("Fitting the hierarchical model", maxValue: 1);
        baseModel = HierarchicalRecommender.Fit(basePart, dynamicPart, new RecommenderOptions
        {
            Model = new HierarchicalOptions { Dimension = 64 },
            Training = new HierarchicalTrainingOptions { Epochs = 40, BatchSize = 32, LearningRate = 2e-3f, Patience = 6, Seed = seed },
            DomainBert = new DomainBertOptions { Epochs = 4, VocabularySize = 3000, Seed = seed },
            Seed = seed,
        }, FineTunerExtensions.Synchronous(p => { Tick(); baseTask.MaxValue = Math.Max(1, p.TotalSteps); baseTask.Value = p.Step; }));
        baseTask.Value = baseTask.MaxValue;
        var dynamicTask = ctx.AddTask("Fitting the dynamic item layers", maxValue: 1);
        dynamic = DynamicRecommender.Fit(baseModel, basePart, dynamicPart, dynamicOptions,
            FineTunerExtensions.Synchronous(p => { Tick(); dynamicTask.MaxValue = Math.Max(1, p.TotalSteps); dynamicTask.Value = p.Step; }));
        dynamicTask.Value = dynamicTask.MaxValue;
    });

var genres = data.ItemFeatures.Tags("genres");
var titles = data.ItemFeatures.TextColumns.Contains("title") ? data.ItemFeatures.Text("title") : null;
string Name(int item) => $"{titles?[item] ?? data.Items.ToExternal(item)} [{string.Join(", ", genres[item].Where(g => !g.Contains('/')).Take(2))}]";

if (evaluate) Prequential();
else
{
    Scenario();
    NewItemScenario();
}
AnsiConsole.MarkupLine($"Total {total.Elapsed.TotalSeconds:F0} s");
return 0;

// Step 2: one user's day, hour by hour.
void Scenario()
{
    var byUserDay = stream.GroupBy(x => (x.User, Day: x.Timestamp / 86_400)).OrderByDescending(g => g.Count()).First();
    int u = byUserDay.Key.User;
    string user = data.Users.ToExternal(u);
    long dayStart = byUserDay.Key.Day * 86_400;
    AnsiConsole.MarkupLine($"\nUser {user} on {DateTimeOffset.FromUnixTimeSeconds(dayStart):yyyy-MM-dd}: {byUserDay.Count()} interactions that day");
    var table = new Table().AddColumns("hour (UTC)", "events in the hour", "top 10: categories", "top 1", "update");
    for (int hour = 0; hour < 24; hour++)
    {
        long now = dayStart + hour * 3600;
        var top = dynamic.Recommend(user, RequestContext.AtUnixTime(now), 10);
        var events = stream.Where(x => x.User == u && x.Timestamp >= now && x.Timestamp < now + 3600).ToList();
        string update = "";
        if (events.Count > 0)
        {
            var report = dynamic.Update(events);
            update = $"{report.NewExamples} new + {report.ReplayedExamples} replayed, {report.Steps} steps, v{report.Version}";
        }
        table.AddRow($"{hour:00}:00", Markup.Escape(string.Join("\n", events.Select(x => Name(x.Item)))),
            Markup.Escape(string.Join(", ", top.SelectMany(t => genres[t.ItemIndex].Where(g => !g.Contains('/')).Take(1)).GroupBy(g => g)
                .OrderByDescending(g => g.Count()).Select(g => $"{g.Key} ×{g.Count()}"))),
            Markup.Escape(top.Count > 0 ? Name(top[0].ItemIndex) : ""), update);
    }
    AnsiConsole.Write(table);
    // Why: the same item at two times of day, its score split into the static part and the context's effect.
    var item = dynamic.Recommend(user, RequestContext.AtUnixTime(dayStart + 2 * 3600), 1)[0];
    foreach (int hour in new[] { 2, 14 })
    {
        // One record for every layer: the first stage's (profile, behaviour, social) and the second stage's (context, item dynamics).
        var all = dynamic.Explain(user, item.ItemId, RequestContext.AtUnixTime(dayStart + hour * 3600));
        var why = all.Dynamic!;
        AnsiConsole.MarkupLine(Markup.Escape($"{Name(item.ItemIndex)} at {hour:00}:00: score {why.Score:F3} = static {why.StaticScore:F3} + refinement {why.Score - why.StaticScore:+0.000;-0.000}; "
            + $"the context alone moves it by {why.ContextEffect:+0.000;-0.000} (attention on the context {why.ContextAttention:P0})"));
        AnsiConsole.MarkupLine(Markup.Escape("  every layer's signed part: " + string.Join(", ", all.LayerAttributions.Select(p => $"{p.Key} {p.Value:+0.000;-0.000}"))));
    }
}

// Step 2b: a new item appearing. The item new in the stream that gathers the most interactions in its first three days;
// a user who takes it up late in that burst; where it stands in their list before the stream, and after the
// interactions up to that moment were observed and learnt from (new items and trending items are candidate sources).
void NewItemScenario()
{
    var before = new HashSet<int>(basePart.Interactions.Concat(dynamicPart.Interactions).Select(x => x.Item));
    var burst = stream.Where(x => !before.Contains(x.Item)).GroupBy(x => x.Item)
        .Select(g => (Item: g.Key, First: g.Min(x => x.Timestamp), Events: g.OrderBy(x => x.Timestamp).ToList()))
        .Select(g => (g.Item, g.First, Burst: g.Events.Where(x => x.Timestamp < g.First + 3 * 86_400).ToList()))
        .Where(g => g.Burst.Count >= 2).OrderByDescending(g => g.Burst.Count).ThenBy(g => g.Item).FirstOrDefault();
    AnsiConsole.MarkupLine("\n[bold]A new item appearing[/]");
    if (burst.Burst is null)
    {
        AnsiConsole.MarkupLine("No item of this stream is new with two or more interactions in its first three days (run with --dataset ml-100k to see one).");
        return;
    }
    var late = burst.Burst[^1];
    using var dynamic = DynamicRecommender.Fit(baseModel, basePart, dynamicPart, dynamicOptions); // a fresh one: the hour-by-hour replay above moved the other on
    using var kept = DynamicRecommender.Fit(baseModel, basePart, dynamicPart, dynamicOptions with { NewItemPlaces = 1, NewItemPlaceAudience = 0 }); // every user; Dispose frees the layers, not baseModel
    string user = data.Users.ToExternal(late.User);
    var context = RequestContext.AtUnixTime(late.Timestamp);
    string Place(IReadOnlyList<DynamicRecommendation> list)
    {
        int at = list.Select(r => r.ItemIndex).ToList().IndexOf(burst.Item);
        return at < 0 ? "not among the candidates" : at < 10 ? $"#{at + 1}: in the top 10" : $"#{at + 1} of {list.Count} candidates";
    }
    AnsiConsole.MarkupLine(Markup.Escape($"{Name(burst.Item)}: first interaction {DateTimeOffset.FromUnixTimeSeconds(burst.First):yyyy-MM-dd HH:mm}, "
        + $"{burst.Burst.Count} interactions in its first three days; user {user} takes it up at {DateTimeOffset.FromUnixTimeSeconds(late.Timestamp):yyyy-MM-dd HH:mm}."));
    AnsiConsole.MarkupLine(Markup.Escape($"  Before the stream (the item has no interaction yet): {Place(dynamic.Recommend(user, context, 1000))}."));
    var upTo = stream.Where(x => x.Timestamp < late.Timestamp && !(x.User == late.User && x.Item == late.Item)).ToList();
    foreach (var day in upTo.GroupBy(x => x.Timestamp / 86_400).OrderBy(g => g.Key))
    {
        dynamic.Update(day.ToList());
        kept.Update(day.ToList());
    }
    var after = dynamic.Recommend(user, context, 1000);
    AnsiConsole.MarkupLine(Markup.Escape($"  After the {upTo.Count} interactions up to that moment were observed and learnt from ({burst.Burst.Count - 1} of them with the item): {Place(after)}."));
    // The last place of the top 10 is kept for the best new candidate (DynamicOptions.NewItemPlaces), for users who take
    // up new items (NewItemPlaceAudience: a share of interactions with new items at least that multiple of everyone's).
    var share = dynamic.NewItemShare(user);
    bool offered = dynamic.TakesUpNewItems(user);
    AnsiConsole.MarkupLine(Markup.Escape($"  User {user} takes up new items: {share.User:P1} of their interactions were with an item new at the time, against {share.Everyone:P1} over everyone's; "
        + (dynamicOptions.NewItemPlaces == 0 ? "no place is kept (NewItemPlaces = 0)." : offered ? $"at least {dynamicOptions.NewItemPlaceAudience} times that, so the last place of the top 10 is kept for a new item." : $"below {dynamicOptions.NewItemPlaceAudience} times that, so no place is kept for them.")));
    var served = dynamic.Recommend(user, context, 10);
    var withPlace = served.Any(r => r.KeptForNewItem) ? served : kept.Recommend(user, context, 10);
    string how = served.Any(r => r.KeptForNewItem) ? "served by default" : "with the place kept for every user (NewItemPlaceAudience = 0)";
    AnsiConsole.MarkupLine(Markup.Escape($"  Its top 10, {how}: the item is {(withPlace.Any(r => r.ItemIndex == burst.Item) ? Place(withPlace) : "not in the top 10")}; the kept place holds {Name(withPlace.LastOrDefault(r => r.KeptForNewItem)?.ItemIndex ?? withPlace[^1].ItemIndex)}."));
    AnsiConsole.MarkupLine(Markup.Escape($"  User {user}'s top 10 ({how}): {string.Join("; ", withPlace.Select(r => (r.ItemIndex == burst.Item ? "→ " : "") + Name(r.ItemIndex) + (r.KeptForNewItem ? " (kept place)" : "")))}"));
}

// Step 3: prequential evaluation.
void Prequential()
{
    var days = stream.GroupBy(x => (x.Timestamp - cutDynamic) / 86_400).OrderBy(g => g.Key).Select(g => g.ToList()).ToList();
    var noUpdates = dynamic;                                            // observes the stream, never learns
    using var withUpdates = DynamicRecommender.Fit(baseModel, basePart, dynamicPart, dynamicOptions);
    using var noContext = DynamicRecommender.Fit(baseModel, basePart, dynamicPart, dynamicOptions with { UseContext = false });
    using var noItemDynamics = DynamicRecommender.Fit(baseModel, basePart, dynamicPart, dynamicOptions with { UseItemDynamics = false });
    using var staticTrained = DynamicRecommender.Fit(baseModel, basePart, dynamicPart, dynamicOptions with { TrainOnStreamCandidates = false });
    using var noBias = DynamicRecommender.Fit(baseModel, basePart, dynamicPart, dynamicOptions with { ItemDynamicsBias = false });
    using var noKept = DynamicRecommender.Fit(baseModel, basePart, dynamicPart, dynamicOptions with { NewItemPlaces = 0 });
    using var keptPlace = DynamicRecommender.Fit(baseModel, basePart, dynamicPart, dynamicOptions with { NewItemPlaces = 1, NewItemPlaceMargin = keptMargin, NewItemPlaceAudience = 0 });
    var audiences = keptAudiences; // extra rows (--kept-audience), for choosing the default
    var keptForAdopters = audiences.Select(m => DynamicRecommender.Fit(baseModel, basePart, dynamicPart, dynamicOptions with { NewItemPlaces = 1, NewItemPlaceMargin = keptMargin, NewItemPlaceAudience = m })).ToArray();
    var known = new HashSet<int>(basePart.Interactions.Concat(dynamicPart.Interactions).Select(x => x.Item));
    var popularity = new double[data.ItemCount];
    var firstSeen = new long[data.ItemCount]; // 0: never interacted with
    var itemTimes = Enumerable.Range(0, data.ItemCount).Select(_ => new List<long>()).ToArray();
    foreach (var x in basePart.Interactions.Concat(dynamicPart.Interactions))
    {
        popularity[x.Item]++;
        itemTimes[x.Item].Add(x.Timestamp);
        if (firstSeen[x.Item] == 0 || x.Timestamp < firstSeen[x.Item]) firstSeen[x.Item] = x.Timestamp;
    }
    string[] names = ["static (E_i, history-aware x_u)", "static as served (collaborative and sequential dimensions, observed history)", "dynamic S_i, no updates", "dynamic S_i + Update (the default)", "dynamic S_i + Update, no context",
        "dynamic S_i + Update, no item dynamics", "dynamic S_i + Update, re-ranker trained on static candidates only", "dynamic S_i + Update, no feature bias b(f_i)", "dynamic S_i + Update, no place kept for new items", "dynamic S_i + Update, one place kept for a new item, every user",
        .. audiences.Select(m => $"dynamic S_i + Update, one place kept for a new item, users who take up new items (audience {m})"), "MostPopular (updated daily)",
        "diagnostic: the new items alone, most interactions in the last 3 days first"];
    int rest = 10 + audiences.Length; // MostPopular's row
    var ndcg = new double[names.Length];
    var recall = new double[names.Length];
    int cases = 0, coldCases = 0, windowCases = 0;
    var coldHits = new double[names.Length];
    var windowHits = new double[names.Length];
    var exposed = new double[names.Length];
    long updated = 0;
    var updateTime = TimeSpan.Zero;
    long window = (long)dynamicOptions.NewItemWindow.TotalSeconds;
    foreach (var day in days)
    {
        long dayStart = day.Min(x => x.Timestamp);
        // "New" as the candidate source defines it: never interacted with, or first within the window.
        bool IsNew(int item) => firstSeen[item] == 0 || firstSeen[item] >= dayStart - window;
        foreach (var group in day.GroupBy(x => x.User))
        {
            string user = data.Users.ToExternal(group.Key);
            var relevant = group.Select(x => x.Item).ToHashSet();
            var history = noUpdates.HistoryOf(user);
            relevant.ExceptWith(history);
            if (relevant.Count == 0) continue;
            var context = RequestContext.AtUnixTime(group.Min(x => x.Timestamp));
            var seen = history.ToHashSet();
            var lists = new int[names.Length][];
            lists[0] = noUpdates.RecommendStatic(user, 10).Select(r => r.ItemIndex).ToArray();
            lists[1] = noUpdates.RecommendStatic(user, 10, served: true).Select(r => r.ItemIndex).ToArray();
            lists[2] = noUpdates.Recommend(user, context, 10).Select(r => r.ItemIndex).ToArray();
            lists[3] = withUpdates.Recommend(user, context, 10).Select(r => r.ItemIndex).ToArray();
            lists[4] = noContext.Recommend(user, context, 10).Select(r => r.ItemIndex).ToArray();
            lists[5] = noItemDynamics.Recommend(user, context, 10).Select(r => r.ItemIndex).ToArray();
            lists[6] = staticTrained.Recommend(user, context, 10).Select(r => r.ItemIndex).ToArray();
            lists[7] = noBias.Recommend(user, context, 10).Select(r => r.ItemIndex).ToArray();
            lists[8] = noKept.Recommend(user, context, 10).Select(r => r.ItemIndex).ToArray();
            lists[9] = keptPlace.Recommend(user, context, 10).Select(r => r.ItemIndex).ToArray();
            for (int m = 0; m < audiences.Length; m++) lists[10 + m] = keptForAdopters[m].Recommend(user, context, 10).Select(r => r.ItemIndex).ToArray();
            lists[rest] = Enumerable.Range(0, data.ItemCount).Where(i => !seen.Contains(i)).OrderByDescending(i => popularity[i]).ThenBy(i => i).Take(10).ToArray();
            lists[rest + 1] = Enumerable.Range(0, data.ItemCount).Where(i => !seen.Contains(i) && IsNew(i))
                .OrderByDescending(i => itemTimes[i].Count(t => t >= dayStart - 3 * 86_400)).ThenBy(i => i).Take(10).ToArray();
            for (int m = 0; m < names.Length; m++)
            {
                ndcg[m] += RankingMetrics.Ndcg(lists[m], relevant, 10);
                recall[m] += RankingMetrics.Recall(lists[m], relevant, 10);
                exposed[m] += lists[m].Any(IsNew) ? 1 : 0;
            }
            cases++;
            foreach (int item in relevant.Where(i => !known.Contains(i)))
            {
                coldCases++;
                for (int m = 0; m < names.Length; m++) coldHits[m] += lists[m].Contains(item) ? 1 : 0;
            }
            foreach (int item in relevant.Where(IsNew))
            {
                windowCases++;
                for (int m = 0; m < names.Length; m++) windowHits[m] += lists[m].Contains(item) ? 1 : 0;
            }
        }
        // Then learn: the day's interactions become history (and training data for the updating models).
        noUpdates.Observe(day);
        var report = withUpdates.Update(day);
        updated += report.NewExamples;
        updateTime += report.Elapsed;
        noContext.Update(day);
        noItemDynamics.Update(day);
        staticTrained.Update(day);
        noBias.Update(day);
        noKept.Update(day);
        keptPlace.Update(day);
        foreach (var m in keptForAdopters) m.Update(day);
        foreach (var x in day)
        {
            popularity[x.Item]++;
            itemTimes[x.Item].Add(x.Timestamp);
            known.Add(x.Item);
            if (firstSeen[x.Item] == 0 || x.Timestamp < firstSeen[x.Item]) firstSeen[x.Item] = x.Timestamp;
        }
    }
    AnsiConsole.MarkupLine($"[bold]Prequential evaluation on the {evaluateOn} stream[/] (seed {seed})");
    string Rate(double hits, int of) => of == 0 ? "-" : (hits / of).ToString("P2");
    var results = new Table().AddColumns($"prequential, {days.Count} daily chunks, {cases} (user, day) cases", "NDCG@10", "Recall@10",
        $"hit rate: first interactions with an item ({coldCases})", $"hit rate: items new within {dynamicOptions.NewItemWindow.TotalDays:F0} days ({windowCases})",
        "top-10 lists with a new item");
    for (int m = 0; m < names.Length; m++)
        results.AddRow(names[m], (ndcg[m] / cases).ToString("F4"), (recall[m] / cases).ToString("F4"), Rate(coldHits[m], coldCases), Rate(windowHits[m], windowCases), Rate(exposed[m], cases));
    AnsiConsole.Write(results);
    foreach (var m in keptForAdopters) m.Dispose(); // frees their layers (baseModel stays)
    AnsiConsole.MarkupLine($"Update throughput: {updated} interactions in {updateTime.TotalSeconds:F1} s = {updated / Math.Max(1e-9, updateTime.TotalSeconds):F0} interactions/s (with replay)");

    // Latency on one core: 1,000 requests of random (user, time) pairs.
    using (var process = Process.GetCurrentProcess())
        if (OperatingSystem.IsLinux() || OperatingSystem.IsWindows()) process.ProcessorAffinity = 1;
    var rng = new HierRec.Rng(3);
    var users = stream.Select(x => x.User).Distinct().ToArray();
    var first = new List<double>();
    var second = new List<double>();
    for (int r = 0; r < 1100; r++)
    {
        string user = data.Users.ToExternal(users[rng.NextInt(users.Length)]);
        var context = RequestContext.AtUnixTime(cutDynamic + rng.NextInt((int)Math.Min(int.MaxValue, t1 - cutDynamic)));
        withUpdates.Recommend(user, context, 10, out var candidateTime, out var rerankTime);
        if (r < 100) continue; // warm-up
        first.Add(candidateTime.TotalMilliseconds);
        second.Add(rerankTime.TotalMilliseconds);
    }
    static double Quantile(List<double> v, double q) { var s = v.Order().ToArray(); return s[Math.Min(s.Length - 1, (int)(q * s.Length))]; }
    AnsiConsole.MarkupLine($"Latency on one core over 1,000 requests: candidates (top {dynamicOptions.Candidates} of {data.ItemCount}) median {Quantile(first, 0.5):F3} ms, p99 {Quantile(first, 0.99):F3} ms; "
        + $"re-ranking {dynamicOptions.Candidates} candidates median {Quantile(second, 0.5):F3} ms, p99 {Quantile(second, 0.99):F3} ms");
}

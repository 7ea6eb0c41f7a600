// HierRec.Samples.Concepts: describe your taste in a sentence, get filtered recommendations with an explanation.
//
//   dotnet run -c Release --project samples/HierRec.Samples.Concepts                                   # synthetic data
//   dotnet run -c Release --project samples/HierRec.Samples.Concepts -- --describe "喜欢悬疑电影，讨厌爱情电影"
//   dotnet run -c Release --project samples/HierRec.Samples.Concepts -- --dataset ml-100k --data ../shared/data \
//       --describe "I love Film-Noir and Mystery films but I hate Romance" --evaluate
//
// 1. Load the data, split each user's interactions 8:1:1 at random (seed 2020, or --seed N) and fit the hierarchical recommender.
// 2. Write each training user's taste as descriptions, from the training split only: the two tags (genres) they
//    over-consume most and one common tag they avoid, in English and Chinese phrasings. 10% of the users are held out of
//    concept training, to be served later from their description alone.
// 3. Fit the concepts: a description BERT pre-trained on item texts and descriptions, the self-supervised interest
//    (two augmented views of a history agree; InfoNCE), the alignment of descriptions with interests, and the filter
//    thresholds on validation data.
// 4. Serve: the given description steers and filters a user's top 10, serves a newcomer from text alone, and explains
//    the top item in a sentence; an HTML report goes to disk. Then the genre the user's own top 10 carries most is
//    rejected in English and in Chinese, and disappears from the list, with the one-record explanation of the new #1.
// 5. With --evaluate: precision and NDCG with and without the concept, the positives the filter removes, text-only cold
//    start against MostPopular, the negative-clause check, and the attribution deletion test, on the test split.
using System.Diagnostics;
using HierRec;
using HierRec.Concepts;
using HierRec.Data;
using HierRec.Evaluation;
using HierRec.Explanations;
using HierRec.Ranking;
using HierRec.Text;
using HierRec.Training;
using Spectre.Console;

string dataset = "synthetic", dataRoot = "../shared/data", describe = "", output = Path.Combine(Path.GetTempPath(), "hierrec-concepts.html");
bool evaluate = false;
string evaluateOn = "test";
ulong seed = 2020; // of the split and of every initialisation
float newUserShare = 0; // --new-user-share: HierarchicalTrainingOptions.NewUserShare (an experiment)
int coldFolds = 1; // --cold-folds: text cold start evaluated over this many disjoint held-out tenths of the users (1 to 10)
for (int a = 0; a < args.Length; a++)
{
    string next = a + 1 < args.Length ? args[a + 1] : "";
    switch (args[a])
    {
        case "--dataset": dataset = next; a++; break;
        case "--data": dataRoot = next; a++; break;
        case "--describe": describe = next; a++; break;
        case "--out": output = next; a++; break;
        case "--evaluate": evaluate = true; break;
        case "--evaluate-on": evaluateOn = next; a++; break; // "validation" for design decisions, "test" for the reported figures
        case "--seed": seed = ulong.Parse(next, System.Globalization.CultureInfo.InvariantCulture); a++; break;
        case "--new-user-share": newUserShare = float.Parse(next, System.Globalization.CultureInfo.InvariantCulture); a++; break;
        case "--cold-folds": coldFolds = int.Parse(next, System.Globalization.CultureInfo.InvariantCulture); a++; break; // text cold start over N disjoint held-out tenths
        default: throw new ArgumentException($"Unknown argument '{args[a]}' (--dataset, --data, --describe, --out, --evaluate, --evaluate-on test|validation, --seed N, --new-user-share X, --cold-folds N).");
    }
}

var total = Stopwatch.StartNew();
var data = dataset switch
{
    "synthetic" => SyntheticDataset.Generate(),
    "ml-100k" => MovieLens100K.Load(Path.Combine(dataRoot, "ml-100k")),
    _ => throw new ArgumentException($"Unknown dataset '{dataset}' (synthetic or ml-100k: descriptions need item tags)."),
};
if (describe.Length == 0) describe = dataset == "synthetic" ? "I love mystery stories but I hate romance" : "I love Film-Noir and Mystery films but I hate Romance";
data = Splits.Deduplicate(Splits.ToImplicit(data));
var split = Splits.RandomRatioPerUser(data, 0.8, 0.1, 0.1, seed: seed);
AnsiConsole.MarkupLine($"[bold]{data.Name}[/]: {data.UserCount} users, {data.ItemCount} items, {data.Interactions.Count} interactions");

// Step 2: descriptions from the training split; 10% of users held out of concept training, drawn with the seed (so the
// seeds' spread includes which users are held out, as it includes which interactions are test).
var tastes = TagDescriptions.Tastes(split.Train);
var heldOut = new bool[data.UserCount];
var order = Enumerable.Range(0, data.UserCount).ToArray();
new Rng(seed).Fork().Shuffle(order.AsSpan());
foreach (int u in order.Take(data.UserCount / 10)) heldOut[u] = true;
var descriptions = new Dictionary<string, IReadOnlyList<string>>();
for (int u = 0; u < data.UserCount; u++)
    if (tastes[u] is { } t && !heldOut[u]) descriptions[split.Train.Users.ToExternal(u)] = TagDescriptions.Phrasings(t);
AnsiConsole.MarkupLine($"{descriptions.Count} users described for training, e.g. [italic]{Markup.Escape(descriptions.First().Value[0])}[/] / [italic]{Markup.Escape(descriptions.First().Value[4])}[/]");

HierarchicalRecommender recommender = null!;
ConceptReport conceptReport = null!;
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
        var fitTask = ctx.AddTask("Fitting the hierarchical model", maxValue: 1);
        recommender = HierarchicalRecommender.Fit(split.Train, split.Validation, new RecommenderOptions
        {
            Model = new HierarchicalOptions { Dimension = 64 },
            Training = new HierarchicalTrainingOptions { Epochs = 40, BatchSize = 32, LearningRate = 2e-3f, Patience = 6, Seed = seed, NewUserShare = newUserShare },
            DomainBert = new DomainBertOptions { Epochs = 4, VocabularySize = 3000, Seed = seed },
            Seed = seed,
        }, FineTunerExtensions.Synchronous(p =>
        {
            Tick();
            if (p.Kind == ProgressKind.Phase) { fitTask.Description = Markup.Escape($"Fitting the hierarchical model ({p.Message})"); return; }
            fitTask.MaxValue = Math.Max(1, p.TotalSteps);
            fitTask.Value = p.Step;
            if (p.Kind == ProgressKind.Epoch) fitTask.Description = Markup.Escape($"Fitting the hierarchical model ({p.Phase}, epoch {p.Epoch}/{p.Epochs})");
        }));
        fitTask.Value = fitTask.MaxValue;
        var conceptTask = ctx.AddTask("Fitting the concepts", maxValue: 1);
        conceptReport = recommender.FitConcepts(split.Train, split.Validation, descriptions, new ConceptOptions { Seed = seed }, FineTunerExtensions.Synchronous(p =>
        {
            Tick();
            if (p.Kind == ProgressKind.Phase) conceptTask.Description = Markup.Escape($"Fitting the concepts ({p.Message})");
            else if (p.Kind == ProgressKind.Epoch)
                conceptTask.Description = Markup.Escape($"Fitting the concepts ({p.Phase}, epoch {p.Epoch}/{p.Epochs}{(p.ValidationMetric is double v ? $", validation {p.MetricName} {v:F4}" : "")})");
            if (p.Kind == ProgressKind.Phase) return;
            conceptTask.MaxValue = Math.Max(1, p.TotalSteps);
            conceptTask.Value = p.Step;
        }));
        conceptTask.Value = conceptTask.MaxValue;
    });
AnsiConsole.MarkupLine($"Concepts: interest {conceptReport.InterestEpochs} epochs (validation NDCG@10 {conceptReport.InterestValidationNdcg:F4}; "
    + (conceptReport.InterestRefinementEpochs > 0 ? $"refined for RecommendByInterest over {conceptReport.InterestRefinementEpochs} epochs: {conceptReport.RefinedInterestValidationNdcg:F4}), "
        : double.IsNaN(conceptReport.RefinedInterestValidationNdcg) ? "no refinement), " : $"refinement not kept: {conceptReport.RefinedInterestValidationNdcg:F4}), ")
    + $"alignment {conceptReport.AlignmentEpochs} epochs (description-only validation NDCG@10 {conceptReport.DescriptionValidationNdcg:F4}); "
    + $"β {conceptReport.SteeringWeight}, word steering β_w {conceptReport.WordSteeringWeight}, cold-start {(conceptReport.ColdNeighbours > 0 ? $"like-minded users k {conceptReport.ColdNeighbours}" : $"β {conceptReport.ColdSteeringWeight}")} and β_w {conceptReport.ColdWordSteeringWeight} (validation NDCG@10 {conceptReport.ColdValidationNdcg:F4}{(conceptReport.ColdNeighbourTrials is { Count: > 0 } nt ? $"; steered x_∅ {nt[0].Ndcg:F4} on the same stand-ins" : "")}), θ {conceptReport.PositiveThreshold:F3}, θ⁻ {conceptReport.NegativeThreshold:F3}; {conceptReport.WallTime.TotalSeconds:F0} s");
AnsiConsole.MarkupLine(Markup.Escape($"Filters: {conceptReport.FilterSummary}."));
if (recommender.Concepts!.GenericWords.Count > 0)
    AnsiConsole.MarkupLine(Markup.Escape($"Generic words, which explanations do not name as what a user asked for (the users who write them consume like anyone): "
        + string.Join(", ", recommender.Concepts.GenericWords.Order(StringComparer.Ordinal))));
if (conceptReport.WordSteeringTrials is { } wordTrials)
    AnsiConsole.MarkupLine(Markup.Escape($"Word steering on validation (NDCG@10 without a description {conceptReport.UnfilteredValidationNdcg:F4}): "
        + string.Join(", ", wordTrials.Select(t => $"β_w {t.Weight} → {t.Ndcg:F4}"))));

// Step 4: serve the description.
var titles = TitleOf(data);
string TitleOfId(string id) => titles(data.Items[id]);
var concept = recommender.Describe(describe);
AnsiConsole.MarkupLine($"\n[bold]\"{Markup.Escape(describe)}\"[/]");
foreach (var c in concept.Clauses) AnsiConsole.MarkupLine($"  {(c.Negative ? "[red]−[/]" : "[green]+[/]")} {Markup.Escape(c.Text)} → [italic]{Markup.Escape(c.Content)}[/]");
AnsiConsole.MarkupLine("  tokens: " + Markup.Escape(string.Join(" ", concept.PositiveTokens.Select(t => $"{t.Token}:{t.Weight:P0}"))));

string user = split.Train.Users.ToExternal(order[^1]);
var plain = recommender.Recommend(user, 10);
var steered = recommender.Recommend(user, describe, 10);
var newcomer = recommender.RecommendFromDescription(describe, 10);
var table = new Table().AddColumns("#", $"user {user}: plain", $"user {user}: with the description", "newcomer: description alone");
for (int i = 0; i < 10; i++)
    table.AddRow((i + 1).ToString(), Cell(plain, i), Cell(steered, i), Cell(newcomer, i));
AnsiConsole.Write(table);
string Cell(IReadOnlyList<Recommendation> list, int i) => i < list.Count ? Markup.Escape(titles(list[i].ItemIndex)) : "";
if (newcomer.Count > 0)
{
    // The newcomer known only by the description gets an explanation too: what everyone likes, and what the words asked for.
    var whyNew = recommender.ExplainFromDescription(describe, newcomer[0].ItemId);
    AnsiConsole.MarkupLine(Markup.Escape($"Why the newcomer's #1: {ExplanationText.ToSentence(whyNew, TitleOfId)} (parts: "
        + string.Join(", ", whyNew.LayerAttributions.Select(p => $"{p.Key} {p.Value:+0.000;-0.000}")) + ")"));
}

// Step 4b: a rejected genre disappearing. The genre the user's own top 10 carries most is rejected in words, in English
// and in Chinese, with the next most frequent one asked for.
var genreOf = split.Train.ItemFeatures.Tags("genres");
IEnumerable<string> Genres(int item) => genreOf[item].Where(g => !g.Contains('/'));
var frequent = plain.SelectMany(r => Genres(r.ItemIndex)).GroupBy(g => g).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).Select(g => g.Key).ToArray();
if (frequent.Length >= 2)
{
    string rejected = frequent[0], wanted = frequent[1];
    string Zh(string g) => TagDescriptions.ChineseNames.TryGetValue(g, out var z) ? z : g;
    string english = $"I like {wanted} films but I hate {rejected}", chinese = $"喜欢{Zh(wanted)}电影，讨厌{Zh(rejected)}电影";
    var inEnglish = recommender.Recommend(user, english, 10);
    var inChinese = recommender.Recommend(user, chinese, 10);
    string Tagged(IReadOnlyList<Recommendation> list, int i) => i >= list.Count ? ""
        : Markup.Escape(titles(list[i].ItemIndex)) + " [grey]" + string.Join(", ", Genres(list[i].ItemIndex).Select(g => g == rejected ? $"[red]{Markup.Escape(g)}[/]" : g == wanted ? $"[green]{Markup.Escape(g)}[/]" : Markup.Escape(g))) + "[/]";
    // Short headers: the descriptions go on a line of their own (wide CJK text in a narrow column header trips the table layout).
    var rejectTable = new Table().AddColumns("#", $"user {user}: plain", "English description", "Chinese description");
    for (int i = 0; i < 10; i++) rejectTable.AddRow((i + 1).ToString(), Tagged(plain, i), Tagged(inEnglish, i), Tagged(inChinese, i));
    AnsiConsole.MarkupLine($"\n[bold]Rejecting the genre this user's top 10 carries most[/]: English \"{Markup.Escape(english)}\", Chinese \"{Markup.Escape(chinese)}\"");
    AnsiConsole.Write(rejectTable);
    int Count(IReadOnlyList<Recommendation> list, string g) => list.Count(r => Genres(r.ItemIndex).Contains(g));
    AnsiConsole.MarkupLine(Markup.Escape($"{rejected} (rejected): {Count(plain, rejected)} of 10 without a description, {Count(inEnglish, rejected)} in English, {Count(inChinese, rejected)} in Chinese; "
        + $"{wanted} (asked for): {Count(plain, wanted)}, {Count(inEnglish, wanted)}, {Count(inChinese, wanted)}."));
    if (inEnglish.Count > 0)
    {
        // One record for the whole answer: profile, behaviour with its items, social with its friends, the description with its words.
        var one = recommender.Explain(user, inEnglish[0].ItemId, english);
        AnsiConsole.MarkupLine(Markup.Escape($"Why #1 of the English list: {ExplanationText.ToSentence(one, TitleOfId, id => "user " + id)}"));
        AnsiConsole.MarkupLine(Markup.Escape("  every layer's signed part of the score: " + string.Join(", ", one.LayerAttributions.Select(p => $"{p.Key} {p.Value:+0.000;-0.000}"))
            + (one.Concept is { } c ? $"; the description's words: {string.Join(", ", (c.WordAttributions ?? []).Take(4).Select(w => $"\"{w.Token}\" {w.Weight:+0.000;-0.000}"))}" : "")));
    }
}

if (steered.Count > 0)
{
    var why = recommender.Explain(user, steered[0].ItemId, describe);
    AnsiConsole.MarkupLine("Why #1: " + Markup.Escape(ExplanationText.ToSentence(why, TitleOfId, id => "user " + id)));
    var report = steered.Select(r => recommender.Explain(user, r.ItemId, describe)).ToList();
    File.WriteAllText(output, ExplanationText.ToHtml($"Recommendations for user {user}: \"{describe}\"", report, TitleOfId, id => "user " + id));
    AnsiConsole.MarkupLine($"HTML report: {Markup.Escape(output)}");
}

if (evaluate) Evaluate();
AnsiConsole.MarkupLine($"Total {total.Elapsed.TotalSeconds:F0} s");
return 0;

void Evaluate()
{
    var model = recommender.Concepts!;
    bool onTest = evaluateOn != "validation";
    var test = Lists(onTest ? split.Test : split.Validation);
    var valid = Lists(split.Validation);
    AnsiConsole.MarkupLine($"[bold]Evaluation on the {(onTest ? "test" : "validation")} split[/] (through the served rankings: Recommend, RecommendByInterest, RecommendFromDescription)");
    var tags = split.Train.ItemFeatures.Tags("genres");
    // Serving excludes the training items; on the test split the validation items are known too, so a few more are
    // asked for and those dropped.
    int[] Top(int u, Func<int, IReadOnlyList<Recommendation>> serve)
    {
        var list = serve(10 + (onTest ? valid[u].Length : 0)).Select(r => r.ItemIndex);
        if (onTest) list = list.Where(i => Array.IndexOf(valid[u], i) < 0);
        return list.Take(10).ToArray();
    }
    string Id(int u) => split.Train.Users.ToExternal(u);
    string English(int u) => TagDescriptions.Phrasings(tastes[u]!)[u % 4];
    string Chinese(int u) => TagDescriptions.Phrasings(tastes[u]!)[4 + u % 3];
    int[] Served(int u, string? description, DescriptionUse use = DescriptionUse.All, bool negation = true) => description is null
        ? Top(u, k => recommender.Recommend(Id(u), k))
        : Top(u, k => recommender.Recommend(Id(u), model.Describe(description, negation), k, use));

    // (a) Warm users: the served ranking without and with the description (English and Chinese phrasings).
    var results = new Table().AddColumns($"ranking ({(onTest ? "test" : "validation")} split, known items excluded)", "users", "P@10", "NDCG@10", "positives removed by the filter");
    var warm = Enumerable.Range(0, data.UserCount).Where(u => !heldOut[u] && tastes[u] is not null && test[u].Length > 0).ToArray();
    void Warm(string name, Func<int, int[]> rank, Func<int, string?>? filteredBy = null)
    {
        double p = 0, n = 0;
        long removed = 0, positives = 0;
        foreach (int u in warm)
        {
            var relevant = test[u].ToHashSet();
            var top = rank(u);
            p += RankingMetrics.Precision(top, relevant, 10);
            n += RankingMetrics.Ndcg(top, relevant, 10);
            if (filteredBy?.Invoke(u) is { } text && model.Filter(model.Describe(text)) is { IsActive: true } cf) removed += relevant.Count(i => !cf.Allows(i));
            positives += relevant.Count;
        }
        results.AddRow(name, warm.Length.ToString(), (p / warm.Length).ToString("F4"), (n / warm.Length).ToString("F4"),
            filteredBy is null ? "" : $"{removed / (double)positives:P1}");
    }
    Warm("no description", u => Served(u, null));
    Warm("+ English description: concept steering only (β)", u => Served(u, English(u), DescriptionUse.Steer));
    Warm("+ English description: concept and word steering (β, β_w)", u => Served(u, English(u), DescriptionUse.Steer | DescriptionUse.Words));
    Warm("+ English description: steering and filter (the default)", u => Served(u, English(u)), English);
    Warm("+ Chinese description: steering and filter (the default)", u => Served(u, Chinese(u)), Chinese);
    Warm("self-supervised interest I_u alone", u => Top(u, k => recommender.RecommendByInterest(Id(u), null, k)));
    AnsiConsole.Write(results);

    // (b) Text-only cold start: held-out users served from their description alone, against MostPopular.
    var cold = Enumerable.Range(0, data.UserCount).Where(u => heldOut[u] && tastes[u] is not null && test[u].Length > 0).ToArray();
    var popularity = new int[data.ItemCount];
    foreach (var x in split.Train.Interactions) popularity[x.Item]++;
    var popular = Enumerable.Range(0, data.ItemCount).OrderByDescending(i => popularity[i]).ThenBy(i => i).ToArray();
    var coldTable = new Table().AddColumns($"text-only cold start (held-out users, {(onTest ? "test" : "validation")} split, known items excluded)", "users", "NDCG@10", "Recall@10", "Hit@10");
    // The held-out users' training items are in the recommender's training data (only the concept model never saw
    // them), and the split's relevant items exclude them; every ranking here leaves them out, as the warm table does and
    // as calibration does for its stand-in newcomers, so that a list is not judged on items the user already has.
    var trainLists = Lists(split.Train);
    int[] Unknown(int u, Func<int, IEnumerable<int>> rank)
    {
        var known = trainLists[u].Concat(onTest ? valid[u] : []).ToHashSet();
        return rank(10 + known.Count).Where(i => !known.Contains(i)).Take(10).ToArray();
    }
    var perUser = new Dictionary<string, (double[] Ndcg, double[] Recall)>();
    void Cold(string name, Func<int, int, IEnumerable<int>> rankTop)
    {
        double n = 0, r = 0, h = 0;
        var ndcgs = new double[cold.Length];
        var recalls = new double[cold.Length];
        for (int c = 0; c < cold.Length; c++)
        {
            int u = cold[c];
            var top = Unknown(u, k => rankTop(u, k));
            var relevant = test[u].ToHashSet();
            n += ndcgs[c] = RankingMetrics.Ndcg(top, relevant, 10);
            r += recalls[c] = RankingMetrics.Recall(top, relevant, 10);
            h += RankingMetrics.Hit(top, relevant, 10);
        }
        perUser[name] = (ndcgs, recalls);
        coldTable.AddRow(name, cold.Length.ToString(), (n / cold.Length).ToString("F4"), (r / cold.Length).ToString("F4"), (h / cold.Length).ToString("F4"));
    }
    Cold("MostPopular", (_, k) => popular.Take(k));
    Cold("description alone (English)", (u, k) => recommender.RecommendFromDescription(English(u), k).Select(x => x.ItemIndex));
    Cold("description alone (Chinese)", (u, k) => recommender.RecommendFromDescription(Chinese(u), k).Select(x => x.ItemIndex));
    if (model.ColdNeighbours > 0 && conceptReport.ColdNeighbourTrials is { Count: > 0 } trials)
    {
        // The ablation: the same fit serving newcomers by the steered x_∅ at its own calibrated (β, β_w), as before
        // like-minded users.
        (int k0, float w0) = (model.ColdNeighbours, model.ColdWordSteeringWeight);
        (model.ColdNeighbours, model.ColdWordSteeringWeight) = (0, trials[0].Word);
        Cold("… steered x_∅ instead of like-minded users (English)", (u, k) => recommender.RecommendFromDescription(English(u), k).Select(x => x.ItemIndex));
        Cold("… steered x_∅ instead of like-minded users (Chinese)", (u, k) => recommender.RecommendFromDescription(Chinese(u), k).Select(x => x.ItemIndex));
        (model.ColdNeighbours, model.ColdWordSteeringWeight) = (k0, w0);
    }
    AnsiConsole.Write(coldTable);
    // Paired over the same users: the per-user difference against MostPopular, its standard error, and how many users
    // each side wins (the seeds' spread includes which users are held out and which of their items are test; this is the
    // difference on the same users and items).
    foreach (var name in perUser.Keys.Where(k => k != "MostPopular"))
        foreach (var (metric, pick) in new (string, Func<(double[] Ndcg, double[] Recall), double[]>)[] { ("NDCG@10", p => p.Ndcg), ("Recall@10", p => p.Recall) })
        {
            var d = pick(perUser[name]).Zip(pick(perUser["MostPopular"]), (a, b) => a - b).ToArray();
            if (d.Length < 2) continue;
            double mean = d.Average(), se = Math.Sqrt(d.Sum(x => (x - mean) * (x - mean)) / (d.Length - 1) / d.Length);
            AnsiConsole.MarkupLine(Markup.Escape($"paired {metric}, {name} − MostPopular: {mean:+0.0000;-0.0000} ± {se:F4} (standard error over {d.Length} users); "
                + $"better for {d.Count(x => x > 0)}, worse for {d.Count(x => x < 0)}, equal for {d.Count(x => x == 0)}"));
        }

    // (c) Negative clauses: share of the top 10 carrying the tag the description rejects.
    var negTable = new Table().AddColumns("negative-clause check (users with a disliked tag)", "users", "share of top-10 items with the rejected tag");
    var rejecting = warm.Where(u => tastes[u]!.Disliked is not null).ToArray();
    void Neg(string name, Func<int, int[]> rank)
    {
        double share = 0;
        foreach (int u in rejecting)
        {
            var top = rank(u);
            share += top.Count(i => tags[i].Contains(tastes[u]!.Disliked!)) / 10.0;
        }
        negTable.AddRow(name, rejecting.Length.ToString(), (share / rejecting.Length).ToString("P2"));
    }
    Neg("no description", u => Served(u, null));
    Neg("description, negation ignored (every clause positive)", u => Served(u, English(u), negation: false));
    Neg("description with negation handling", u => Served(u, English(u)));
    Neg("Chinese description with negation handling", u => Served(u, Chinese(u)));
    AnsiConsole.Write(negTable);

    // (c') Steering: share of the top 10 carrying a tag the description asks for, with and without the description.
    var likeTable = new Table().AddColumns("steering check (described users)", "users", "share of top-10 items with a described tag");
    void Like(string name, Func<int, int[]> rank)
    {
        double share = 0;
        foreach (int u in warm)
        {
            var liked = tastes[u]!.Liked;
            share += rank(u).Count(i => tags[i].Any(liked.Contains)) / 10.0;
        }
        likeTable.AddRow(name, warm.Length.ToString(), (share / warm.Length).ToString("P2"));
    }
    Like("no description", u => Served(u, null));
    Like("description, concept steering only (β)", u => Served(u, English(u), DescriptionUse.Steer));
    Like("description, concept and word steering (β, β_w)", u => Served(u, English(u), DescriptionUse.Steer | DescriptionUse.Words));
    Like("description, steering and filter (the default)", u => Served(u, English(u)));
    Like("Chinese description, steering and filter (the default)", u => Served(u, Chinese(u)));
    AnsiConsole.Write(likeTable);
    // How well C⁻ picks out the rejected tag over the whole catalogue: recall and precision of the negative filter.
    {
        long tagged = 0, caught = 0, removed = 0, removedTagged = 0;
        foreach (int u in rejecting)
        {
            var cf = model.Filter(model.Describe(English(u)), float.NegativeInfinity);
            for (int i = 0; i < data.ItemCount; i++)
            {
                bool isTagged = tags[i].Contains(tastes[u]!.Disliked!), out_ = !cf.Allows(i);
                tagged += isTagged ? 1 : 0;
                caught += isTagged && out_ ? 1 : 0;
                removed += out_ ? 1 : 0;
                removedTagged += out_ && isTagged ? 1 : 0;
            }
        }
        AnsiConsole.MarkupLine($"Negative filter alone (θ⁻ {model.NegativeThreshold:F3}): removes {caught / (double)Math.Max(1, tagged):P1} of the catalogue's items carrying the rejected tag; "
            + $"{removedTagged / (double)Math.Max(1, removed):P1} of the items it removes carry it (catalogue share of such items {tagged / (double)Math.Max(1, (long)rejecting.Length * data.ItemCount):P1})");
    }

    // (d) Are the attributions faithful? Remove the top-3 attributed history items, or the 3 most attended, or 3 at random.
    var sample = warm.Take(300).Select(u => split.Train.Users.ToExternal(u)).ToArray();
    var deletion = AttributionCheck.Deletion(recommender, sample, remove: 3);
    AnsiConsole.MarkupLine($"Deletion test ({deletion.Users} users, {deletion.Removed} items removed): mean score drop top-attributed {deletion.MeanDropTopAttributed:F4}, "
        + $"top-attention {deletion.MeanDropTopAttention:F4}, random {deletion.MeanDropRandom:F4}; top-attributed beats random for {deletion.ShareTopBeatsRandom:P1} of users");
    // The same test for the other attributed parts: friends (two removed) and a description's words (two deleted).
    var friendDeletion = AttributionCheck.FriendDeletion(recommender, sample, remove: 2);
    AnsiConsole.MarkupLine($"Friend deletion ({friendDeletion.Users} users, 2 friends removed): mean score drop top-attributed {friendDeletion.MeanDropTopAttributed:F4}, "
        + $"top-attention {friendDeletion.MeanDropTopAttention:F4}, random {friendDeletion.MeanDropRandom:F4}; top-attributed beats random for {friendDeletion.ShareTopBeatsRandom:P1} of users");
    var describedSample = warm.Where(u => tastes[u] is not null).Take(200).Select(u => (split.Train.Users.ToExternal(u), TagDescriptions.Phrasings(tastes[u]!)[u % 4])).ToArray();
    var wordDeletion = AttributionCheck.WordDeletion(recommender, describedSample, remove: 2);
    AnsiConsole.MarkupLine($"Word deletion ({wordDeletion.Users} descriptions, 2 words deleted): mean steering drop top-attributed {wordDeletion.MeanDropTopAttributed:F4}, "
        + $"top-attention {wordDeletion.MeanDropTopAttention:F4}, random {wordDeletion.MeanDropRandom:F4}; top-attributed beats random for {wordDeletion.ShareTopBeatsRandom:P1} of descriptions");
    // And for text cold start's words (ExplainFromDescription): the score drop of the newcomer's top item.
    var coldDeletion = AttributionCheck.ColdWordDeletion(recommender, describedSample.Select(p => p.Item2), remove: 2);
    AnsiConsole.MarkupLine($"Text-cold-start word deletion ({coldDeletion.Users} descriptions, 2 words deleted): mean score drop top-attributed {coldDeletion.MeanDropTopAttributed:F4}, "
        + $"top-attention {coldDeletion.MeanDropTopAttention:F4}, random {coldDeletion.MeanDropRandom:F4}; top-attributed beats random for {coldDeletion.ShareTopBeatsRandom:P1} of descriptions");

    // (e) Text cold start over more newcomers (--cold-folds N): the concept model is fitted again N − 1 times, each time
    // with the next tenth of the users (in the seed's shuffled order; disjoint, the first is (b)'s) held out of it, and
    // each tenth's newcomers are served as in (b). The hierarchical model stays: the held-out users' interactions were
    // always in its training data, only their descriptions are new to the concept model. Pooled over the users, so a
    // seed's figure rests on about N × 94 newcomers instead of 94. Runs last: each refit frees the concept model before it.
    if (coldFolds > 1)
    {
        int size = data.UserCount / 10;
        var pooled = new Dictionary<string, List<(double Ndcg, double Recall, double Hit)>>();
        void Add(string name, int u, int[] top)
        {
            var relevant = test[u].ToHashSet();
            if (!pooled.TryGetValue(name, out var list)) pooled[name] = list = [];
            list.Add((RankingMetrics.Ndcg(top, relevant, 10), RankingMetrics.Recall(top, relevant, 10), RankingMetrics.Hit(top, relevant, 10)));
        }
        for (int f = 0; f < Math.Min(coldFolds, 10); f++)
        {
            var fold = order.Skip(f * size).Take(size).ToHashSet();
            if (f > 0)
            {
                var foldDescriptions = new Dictionary<string, IReadOnlyList<string>>();
                for (int u = 0; u < data.UserCount; u++)
                    if (tastes[u] is { } t && !fold.Contains(u)) foldDescriptions[Id(u)] = TagDescriptions.Phrasings(t);
                var r = recommender.FitConcepts(split.Train, split.Validation, foldDescriptions, new ConceptOptions { Seed = seed });
                AnsiConsole.MarkupLine(Markup.Escape($"fold {f + 1}: {foldDescriptions.Count} users described for training; cold start {(r.ColdNeighbours > 0 ? $"like-minded users k {r.ColdNeighbours}" : $"β {r.ColdSteeringWeight}")}, "
                    + $"β_w {r.ColdWordSteeringWeight} (stand-ins' validation NDCG@10 {r.ColdValidationNdcg:F4}); {r.WallTime.TotalSeconds:F0} s"));
            }
            foreach (int u in fold.Where(u => tastes[u] is not null && test[u].Length > 0).Order())
            {
                Add("MostPopular", u, Unknown(u, k => popular.Take(k)));
                Add("description alone (English)", u, Unknown(u, k => recommender.RecommendFromDescription(English(u), k).Select(x => x.ItemIndex)));
                Add("description alone (Chinese)", u, Unknown(u, k => recommender.RecommendFromDescription(Chinese(u), k).Select(x => x.ItemIndex)));
            }
        }
        var foldTable = new Table().AddColumns($"text-only cold start over {Math.Min(coldFolds, 10)} held-out tenths ({(onTest ? "test" : "validation")} split, known items excluded)", "users", "NDCG@10", "Recall@10", "Hit@10");
        foreach (var (name, list) in pooled)
            foldTable.AddRow(name, list.Count.ToString(), list.Average(x => x.Ndcg).ToString("F4"), list.Average(x => x.Recall).ToString("F4"), list.Average(x => x.Hit).ToString("F4"));
        AnsiConsole.Write(foldTable);
        foreach (var name in pooled.Keys.Where(k => k != "MostPopular"))
            foreach (var (metric, pick) in new (string, Func<(double Ndcg, double Recall, double Hit), double>)[] { ("NDCG@10", p => p.Ndcg), ("Recall@10", p => p.Recall) })
            {
                var d = pooled[name].Zip(pooled["MostPopular"], (a, b) => pick(a) - pick(b)).ToArray();
                double mean = d.Average(), se = Math.Sqrt(d.Sum(x => (x - mean) * (x - mean)) / (d.Length - 1) / d.Length);
                AnsiConsole.MarkupLine(Markup.Escape($"pooled paired {metric}, {name} − MostPopular: {mean:+0.0000;-0.0000} ± {se:F4} (standard error over {d.Length} users); "
                    + $"better for {d.Count(x => x > 0)}, worse for {d.Count(x => x < 0)}, equal for {d.Count(x => x == 0)}"));
            }
    }
}

static int[][] Lists(Dataset d)
{
    var lists = Enumerable.Range(0, d.UserCount).Select(_ => new List<int>()).ToArray();
    foreach (var x in d.Interactions) lists[x.User].Add(x.Item);
    return lists.Select(l => l.ToArray()).ToArray();
}

static Func<int, string> TitleOf(Dataset d)
{
    var column = d.ItemFeatures.TextColumns.Contains("title") ? d.ItemFeatures.Text("title") : null;
    return i => column?[i] ?? d.Items.ToExternal(i);
}

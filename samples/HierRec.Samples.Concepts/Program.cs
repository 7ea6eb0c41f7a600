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
//    the top item in a sentence; an HTML report goes to disk.
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
        default: throw new ArgumentException($"Unknown argument '{args[a]}' (--dataset, --data, --describe, --out, --evaluate, --evaluate-on test|validation, --seed N).");
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

// Step 2: descriptions from the training split; 10% of users held out of concept training.
var tastes = TagDescriptions.Tastes(split.Train);
var heldOut = new bool[data.UserCount];
var order = Enumerable.Range(0, data.UserCount).ToArray();
new Rng(11).Shuffle(order.AsSpan());
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
            Training = new HierarchicalTrainingOptions { Epochs = 40, BatchSize = 32, LearningRate = 2e-3f, Patience = 6, Seed = seed },
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
AnsiConsole.MarkupLine($"Concepts: interest {conceptReport.InterestEpochs} epochs (validation NDCG@10 {conceptReport.InterestValidationNdcg:F4}), "
    + $"alignment {conceptReport.AlignmentEpochs} epochs (description-only validation NDCG@10 {conceptReport.DescriptionValidationNdcg:F4}); "
    + $"β {conceptReport.SteeringWeight}, cold-start β {conceptReport.ColdSteeringWeight} (validation NDCG@10 {conceptReport.ColdValidationNdcg:F4}), θ {conceptReport.PositiveThreshold:F3}, θ⁻ {conceptReport.NegativeThreshold:F3}; {conceptReport.WallTime.TotalSeconds:F0} s");
AnsiConsole.MarkupLine(Markup.Escape($"Filters: {conceptReport.FilterSummary}."));

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
    var known = onTest ? Lists(split.Train).Zip(Lists(split.Validation), (a, b) => a.Concat(b).ToArray()).ToArray() : Lists(split.Train);
    AnsiConsole.MarkupLine($"[bold]Evaluation on the {(onTest ? "test" : "validation")} split[/]");
    var tags = split.Train.ItemFeatures.Tags("genres");
    var index = recommender.Index;
    int[] Ranked(float[] query, ItemFilter? filter) => index.Rank(query, 10, new RankOptions { Filter = filter }).Select(r => r.ItemIndex).ToArray();

    // (a) Warm users: the hierarchical ranking without and with the concept (English and Chinese phrasings).
    var results = new Table().AddColumns($"ranking ({(onTest ? "test" : "validation")} split, known items excluded)", "users", "P@10", "NDCG@10", "positives removed by the filter");
    var warm = Enumerable.Range(0, data.UserCount).Where(u => !heldOut[u] && tastes[u] is not null && test[u].Length > 0).ToArray();
    var vectors = warm.ToDictionary(u => u, u => recommender.UserVector(split.Train.Users.ToExternal(u)));
    void Warm(string name, Func<int, string?> descriptionOf, bool steer, bool filter)
    {
        double p = 0, n = 0;
        long removed = 0, positives = 0;
        foreach (int u in warm)
        {
            var relevant = test[u].ToHashSet();
            ItemFilter exclude = ItemFilter.Exclude(known[u]);
            float[] query = vectors[u];
            if (descriptionOf(u) is { } text)
            {
                var cv = model.Describe(text);
                var cf = model.Filter(cv);
                if (steer) query = model.Steer(query, cv);
                if (filter && cf.IsActive)
                {
                    exclude = ItemFilter.All(exclude, cf);
                    removed += relevant.Count(i => !cf.Allows(i));
                }
                positives += relevant.Count;
            }
            var top = Ranked(query, exclude);
            p += RankingMetrics.Precision(top, relevant, 10);
            n += RankingMetrics.Ndcg(top, relevant, 10);
        }
        results.AddRow(name, warm.Length.ToString(), (p / warm.Length).ToString("F4"), (n / warm.Length).ToString("F4"),
            positives == 0 ? "" : $"{removed / (double)positives:P1}");
    }
    Warm("hierarchical x_u, no concept", _ => null, false, false);
    Warm("+ English description: steering only", u => TagDescriptions.Phrasings(tastes[u]!)[u % 4], true, false);
    Warm("+ English description: steering and filter", u => TagDescriptions.Phrasings(tastes[u]!)[u % 4], true, true);
    Warm("+ Chinese description: steering and filter", u => TagDescriptions.Phrasings(tastes[u]!)[4 + u % 3], true, true);
    // The self-supervised interest alone: rank by ⟨I_u, P_i⟩.
    {
        double p = 0, n = 0;
        foreach (int u in warm)
        {
            var top = Ranked(model.InterestOf(recommender.Context.Histories[u]), ItemFilter.Exclude(known[u]));
            p += RankingMetrics.Precision(top, test[u].ToHashSet(), 10);
            n += RankingMetrics.Ndcg(top, test[u].ToHashSet(), 10);
        }
        results.AddRow("self-supervised interest I_u alone", warm.Length.ToString(), (p / warm.Length).ToString("F4"), (n / warm.Length).ToString("F4"), "");
    }
    AnsiConsole.Write(results);

    // (b) Text-only cold start: held-out users served from their description alone, against MostPopular.
    var cold = Enumerable.Range(0, data.UserCount).Where(u => heldOut[u] && tastes[u] is not null && test[u].Length > 0).ToArray();
    var popularity = new int[data.ItemCount];
    foreach (var x in split.Train.Interactions) popularity[x.Item]++;
    var popular = Enumerable.Range(0, data.ItemCount).OrderByDescending(i => popularity[i]).ThenBy(i => i).Take(10).ToArray();
    var coldTable = new Table().AddColumns($"text-only cold start (held-out users, {(onTest ? "test" : "validation")} split)", "users", "NDCG@10", "Recall@10", "Hit@10");
    void Cold(string name, Func<int, int[]> rank)
    {
        double n = 0, r = 0, h = 0;
        foreach (int u in cold)
        {
            var top = rank(u);
            var relevant = test[u].ToHashSet();
            n += RankingMetrics.Ndcg(top, relevant, 10);
            r += RankingMetrics.Recall(top, relevant, 10);
            h += RankingMetrics.Hit(top, relevant, 10);
        }
        coldTable.AddRow(name, cold.Length.ToString(), (n / cold.Length).ToString("F4"), (r / cold.Length).ToString("F4"), (h / cold.Length).ToString("F4"));
    }
    Cold("MostPopular", _ => popular);
    Cold("description alone (English)", u => recommender.RecommendFromDescription(TagDescriptions.Phrasings(tastes[u]!)[u % 4]).Select(x => x.ItemIndex).ToArray());
    Cold("description alone (Chinese)", u => recommender.RecommendFromDescription(TagDescriptions.Phrasings(tastes[u]!)[4 + u % 3]).Select(x => x.ItemIndex).ToArray());
    AnsiConsole.Write(coldTable);

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
    int[] WithConcept(int u, bool negation)
    {
        var cv = model.Describe(TagDescriptions.Phrasings(tastes[u]!)[u % 4], negation);
        var cf = model.Filter(cv);
        return Ranked(model.Steer(vectors[u], cv), cf.IsActive ? ItemFilter.All(ItemFilter.Exclude(known[u]), cf) : ItemFilter.Exclude(known[u]));
    }
    Neg("no description", u => Ranked(vectors[u], ItemFilter.Exclude(known[u])));
    Neg("description, negation ignored (every clause positive)", u => WithConcept(u, false));
    Neg("description with negation handling", u => WithConcept(u, true));
    AnsiConsole.Write(negTable);

    // (c') Steering: share of the top 10 carrying a tag the description asks for, with and without the description.
    var likeTable = new Table().AddColumns("steering check (described users)", "users", "share of top-10 items with a described tag");
    var liking = warm.Where(u => tastes[u] is not null).ToArray();
    void Like(string name, Func<int, int[]> rank)
    {
        double share = 0;
        foreach (int u in liking)
        {
            var liked = tastes[u]!.Liked;
            share += rank(u).Count(i => tags[i].Any(liked.Contains)) / 10.0;
        }
        likeTable.AddRow(name, liking.Length.ToString(), (share / liking.Length).ToString("P2"));
    }
    Like("no description", u => Ranked(vectors[u], ItemFilter.Exclude(known[u])));
    Like("description, steering only", u => Ranked(model.Steer(vectors[u], model.Describe(TagDescriptions.Phrasings(tastes[u]!)[u % 4])), ItemFilter.Exclude(known[u])));
    Like("description, steering and filter", u => WithConcept(u, true));
    AnsiConsole.Write(likeTable);
    // How well C⁻ picks out the rejected tag over the whole catalogue: recall and precision of the negative filter.
    {
        long tagged = 0, caught = 0, removed = 0, removedTagged = 0;
        foreach (int u in rejecting)
        {
            var cf = model.Filter(model.Describe(TagDescriptions.Phrasings(tastes[u]!)[u % 4]), float.NegativeInfinity);
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

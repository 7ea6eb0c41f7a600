// HierRec.Samples.Quickstart: the whole pipeline in one run.
//
//   dotnet run -c Release --project samples/HierRec.Samples.Quickstart                     # embedded synthetic data
//   dotnet run -c Release --project samples/HierRec.Samples.Quickstart -- --dataset ml-100k --data ../shared/data
//
// 1. Load the data and split each user's interactions 8:1:1 at random (seed 2020).
// 2. Pre-train a small BERT (masked language model) on the item texts; its pooled vectors feed the item tower.
// 3. Fit the hierarchical model (profile → behaviour → social, fused by attention) with early stopping on validation.
// 4. Evaluate on the test split against MostPopular, BPR-MF and EASE (full ranking, known items excluded): what
//    Recommend serves (the hierarchical model fused with its collaborative dimension) and the hierarchical model alone.
// 5. Print one user's top 10 with the share of each layer, and save the recommender to a folder.
using System.Diagnostics;
using HierRec;
using HierRec.Baselines;
using HierRec.Data;
using HierRec.Evaluation;
using HierRec.Text;
using HierRec.Training;
using Spectre.Console;

string dataset = "synthetic", dataRoot = "../shared/data", output = Path.Combine(Path.GetTempPath(), "hierrec-quickstart");
for (int a = 0; a < args.Length - 1; a++)
{
    if (args[a] == "--dataset") dataset = args[a + 1];
    if (args[a] == "--data") dataRoot = args[a + 1];
    if (args[a] == "--out") output = args[a + 1];
}

var total = Stopwatch.StartNew();
var data = dataset switch
{
    "synthetic" => SyntheticDataset.Generate(),
    "ml-100k" => MovieLens100K.Load(Path.Combine(dataRoot, "ml-100k")),
    "lastfm-2k" => LastFm2K.Load(Path.Combine(dataRoot, "hetrec2011-lastfm-2k")),
    _ => throw new ArgumentException($"Unknown dataset '{dataset}' (synthetic, ml-100k or lastfm-2k)."),
};
data = Splits.Deduplicate(Splits.ToImplicit(data));
var split = Splits.RandomRatioPerUser(data, 0.8, 0.1, 0.1, seed: 2020);
AnsiConsole.MarkupLine($"[bold]{data.Name}[/]: {data.UserCount} users, {data.ItemCount} items, {data.Interactions.Count} interactions, {data.SocialEdges.Count} social edges");

var options = new RecommenderOptions
{
    Model = new HierarchicalOptions { Dimension = 64 },
    Training = new HierarchicalTrainingOptions { Epochs = 40, BatchSize = 32, LearningRate = 2e-3f, Patience = 6 },
    DomainBert = new DomainBertOptions { Epochs = 4, VocabularySize = 3000 },
};

HierarchicalRecommender recommender = null!;
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
        var bertTask = ctx.AddTask("Pre-training the item-text BERT", maxValue: 1);
        var fitTask = ctx.AddTask("Fitting the hierarchical model", maxValue: 1);
        // One progress type for every phase: BERT pre-training reports its steps and held-out perplexity, the
        // recommender its steps and validation NDCG@10, each step and each epoch once.
        var progress = FineTunerExtensions.Synchronous(p =>
        {
            Tick();
            var task = p.Phase is "training" or "collaborative dimension" or "solving EASE" or "sequential dimension" or nameof(SasRec) ? fitTask : bertTask;
            if (task == fitTask && !bertTask.IsFinished) bertTask.Value = bertTask.MaxValue;
            if (p.Kind == ProgressKind.Phase)
            {
                if (task == bertTask) bertTask.Description = Markup.Escape($"Pre-training the item-text BERT: {p.Message}");
                else fitTask.Description = Markup.Escape($"Fusing the {(p.Phase == "sequential dimension" ? "sequential" : "collaborative")} dimension: {p.Message}");
                return;
            }
            task.MaxValue = Math.Max(1, p.TotalSteps);
            task.Value = p.Step;
            if (p.Kind == ProgressKind.Epoch && p.ValidationMetric is double v)
                task.Description = Markup.Escape($"{(task == bertTask ? "Pre-training the item-text BERT" : p.Phase == nameof(SasRec) ? "Training the sequential dimension (SASRec)" : "Fitting the hierarchical model")} (epoch {p.Epoch}/{p.Epochs}, validation {p.MetricName} {v:F4})");
        });
        recommender = HierarchicalRecommender.Fit(split.Train, split.Validation, options, progress);
        bertTask.Value = 1;
        fitTask.Value = fitTask.MaxValue;
    });
if (recommender.BertReport is { } br)
    AnsiConsole.MarkupLine($"BERT held-out perplexity {br.InitialPerplexity:F1} → {br.EpochPerplexities[^1]:F1} in {br.Elapsed.TotalSeconds:F0} s");
var report = recommender.TrainingReport!;
AnsiConsole.MarkupLine($"Best epoch {report.BestEpoch} (validation NDCG@10 {report.BestValidationNdcg:F4}), {report.Elapsed.TotalSeconds:F0} s");
if (recommender.SequentialReport is { } seq)
    AnsiConsole.MarkupLine(Markup.Escape($"Sequential dimension (SASRec, best epoch {seq.BestEpoch}): γ_s = {seq.Weight} chosen on validation" + (seq.Weight == 0 ? ", so it is not served (the order of these histories adds nothing)" : "")));
foreach (var (layer, why) in recommender.DisabledLayers)
    AnsiConsole.MarkupLine(Markup.Escape($"Off: {layer}: {why}"));

var evaluator = new Evaluator { Ks = [10] };
var table = new Table().AddColumns("model", "Recall@10", "NDCG@10", "Hit@10", "train s");
void Row(string name, IScoringModel model, double seconds)
{
    var m = evaluator.Evaluate(model, split.Test, split.Train, split.Validation);
    table.AddRow(name, m["recall@10"].ToString("F4"), m["ndcg@10"].ToString("F4"), m["hit@10"].ToString("F4"), seconds.ToString("F1"));
}
Row("MostPopular", new MostPopular(split.Train), 0);
var sw = Stopwatch.StartNew();
// BPR-MF's learning rate is chosen on validation NDCG@10, as in the baselines sample.
var bpr = new[] { 1e-3f, 5e-3f }.Select(lr => BprMf.Fit(split.Train, split.Validation, new BprOptions { LearningRate = lr }))
    .MaxBy(m => evaluator.Evaluate(m, split.Validation, split.Train)["ndcg@10"])!;
Row("BPR-MF", bpr, sw.Elapsed.TotalSeconds);
sw.Restart();
// EASE, the strongest classical baseline here; its λ on validation too.
var ease = new[] { 100.0, 250, 500, 1000 }.Select(l => new Ease(split.Train, l)).MaxBy(m => evaluator.Evaluate(m, split.Validation, split.Train)["ndcg@10"])!;
Row($"EASE (λ = {ease.Lambda})", ease, sw.Elapsed.TotalSeconds);
// What Recommend serves: the hierarchical model fused with its collaborative and sequential dimensions (λ and the weights
// chosen in Fit).
Row("HierRec hierarchical" + (recommender.CollaborativeReport is { Weight: > 0 } c ? $" + collaborative (λ = {c.Lambda}, γ = {c.Weight})" : "")
    + (recommender.SequentialReport is { Weight: > 0 } q ? $" + sequential (γ_s = {q.Weight})" : ""), recommender.AsScoringModel(), report.Elapsed.TotalSeconds);
Row("  (its hierarchical model alone)", new HierarchicalScoringModel(recommender.Model, UserContextOf(recommender)), report.Elapsed.TotalSeconds);
AnsiConsole.Write(table);

string user = split.Test.Users.ToExternal(split.Test.Interactions[0].User);
var top = recommender.Recommend(user, 10);
var explanation = recommender.Explain(user, top[0].ItemId);
AnsiConsole.MarkupLine($"\n[bold]Top 10 for user {Markup.Escape(user)}[/] (layers: {string.Join(", ", explanation.LayerContributions.Select(kv => $"{kv.Key} {kv.Value:P0}"))})");
var titles = TitleOf(data);
var topTable = new Table().AddColumns("#", "item", "score", "P(i|u)");
for (int i = 0; i < top.Count; i++) topTable.AddRow((i + 1).ToString(), Markup.Escape(titles(top[i].ItemIndex)), top[i].Score.ToString("F3"), top[i].Probability.ToString("P2"));
AnsiConsole.Write(topTable);
AnsiConsole.MarkupLine($"Why #1 (score {explanation.Score:F3}, P(i|u) {explanation.Probability:P2}): "
    + Markup.Escape(HierRec.Explanations.ExplanationText.ToSentence(explanation, id => titles(data.Items[id]), id => "user " + id)));

recommender.Save(output);
AnsiConsole.MarkupLine($"Saved to {Markup.Escape(output)}; total {total.Elapsed.TotalSeconds:F0} s");
return 0;

static HierRec.Users.UserContext UserContextOf(HierarchicalRecommender r) => r.Context;

static Func<int, string> TitleOf(Dataset d)
{
    var column = d.ItemFeatures.TextColumns.Contains("title") ? d.ItemFeatures.Text("title") : d.ItemFeatures.TextColumns.Contains("name") ? d.ItemFeatures.Text("name") : null;
    return i => column?[i] ?? d.Items.ToExternal(i);
}

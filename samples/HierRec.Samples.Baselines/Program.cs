// HierRec.Samples.Baselines: the classic baselines on real data, under RecBole's protocol.
//
//   dotnet run -c Release --project samples/HierRec.Samples.Baselines -- --data ../shared/data --dataset all
//
// (--dataset ml-100k | lastfm-2k | synthetic | all; --data names the folder that holds ml-100k/ and hetrec2011-lastfm-2k/.)
//
// Scenario: load MovieLens-100K (every rating kept as an implicit interaction), split each user's interactions
// at random 8:1:1 (seed 2020), pick each baseline's hyper-parameters by NDCG@10 on the validation split only, then
// report full-ranking test metrics (training and validation items excluded) and the training wall time, as Markdown.
// Baselines: MostPopular, ItemKNN, EASE (catalogues up to 5,000 items), BPR-MF, LightGCN.
using System.Diagnostics;
using HierRec.Baselines;
using HierRec.Data;
using HierRec.Evaluation;

string dataRoot = "../shared/data", dataset = "ml-100k";
for (int a = 0; a < args.Length - 1; a++)
{
    if (args[a] == "--data") dataRoot = args[a + 1];
    if (args[a] == "--dataset") dataset = args[a + 1];
}
string[] datasets = dataset == "all" ? ["ml-100k", "lastfm-2k", "synthetic"] : [dataset];
foreach (var name in datasets)
{
    if (name != "synthetic" && !Directory.Exists(dataRoot))
    {
        Console.Error.WriteLine($"skipped {name}: data not present ({Path.GetFullPath(dataRoot)}); pass --data <folder>.");
        continue;
    }
    RunOne(name);
}
return 0;



void RunOne(string dataset)
{
    var data = dataset switch
    {
        "ml-100k" => MovieLens100K.Load(Path.Combine(dataRoot, "ml-100k")),
        "lastfm-2k" => LastFm2K.Load(Path.Combine(dataRoot, "hetrec2011-lastfm-2k")),
        "synthetic" => SyntheticDataset.Generate(),
        _ => throw new ArgumentException($"Unknown dataset '{dataset}' (ml-100k, lastfm-2k or synthetic)."),
    };
    data = Splits.Deduplicate(Splits.ToImplicit(data));
    var split = Splits.RandomRatioPerUser(data, 0.8, 0.1, 0.1, seed: 2020);
    var stats = DatasetStatistics.Of(data);
    Console.WriteLine($"## {dataset}: {stats.Users} users, {stats.Items} items, {stats.Interactions} interactions (density {stats.Density:P2}); train {split.Train.Interactions.Count}, validation {split.Validation.Interactions.Count}, test {split.Test.Interactions.Count}");
    Console.WriteLine();

    var evaluator = new Evaluator { Ks = [10, 20] };
    var rows = new List<string>();

    void Report(string name, string chosen, IScoringModel model, double seconds)
    {
        var test = evaluator.Evaluate(model, split.Test, split.Train, split.Validation);
        rows.Add($"| {name} | {chosen} | {test["recall@10"]:F4} | {test["ndcg@10"]:F4} | {test["hit@10"]:F4} | {test["mrr@10"]:F4} | {test["precision@10"]:F4} | {test["itemcoverage@20"]:F4} | {seconds:F1} |");
        Console.Error.WriteLine(rows[^1]);
    }

    // Fits every candidate, keeps the one with the best validation NDCG@10 (test data is never looked at here), and
    // reports it on test with its own training time.
    void SelectAndReport<T>(string name, IEnumerable<(string Label, Func<T> Fit)> candidates, Func<T, string>? describe = null) where T : IScoringModel
    {
        (string Label, T Model, double Ndcg, double Seconds) best = default;
        foreach (var (label, fit) in candidates)
        {
            var sw = Stopwatch.StartNew();
            var m = fit();
            double seconds = sw.Elapsed.TotalSeconds;
            double v = evaluator.Evaluate(m, split.Validation, split.Train)["ndcg@10"];
            Console.Error.WriteLine($"  {name} {label}: validation ndcg@10 {v:F4} ({seconds:F1} s)");
            if (best.Model is null || v > best.Ndcg) best = (label, m, v, seconds);
        }
        Report(name, best.Label + (describe is null ? "" : ", " + describe(best.Model!)), best.Model!, best.Seconds);
    }

    SelectAndReport("MostPopular", [("-", () => new MostPopular(split.Train))]);
    SelectAndReport("ItemKNN", from k in new[] { 50, 100, 200 } from sh in new[] { 0.0, 10.0 } select ($"k={k}, shrink={sh}", (Func<ItemKnn>)(() => new ItemKnn(split.Train, k, sh))));
    if (data.ItemCount <= 5_000) // EASE's dense solve is O(items³): too slow at Last.fm's 17,632 items
    {
        SelectAndReport("EASE", from l in new[] { 50.0, 100, 250, 500, 1000 } select ($"λ={l}", (Func<Ease>)(() => new Ease(split.Train, l))));
    }
    SelectAndReport("BPR-MF", from lr in new[] { 1e-3f, 5e-3f } select ($"lr={lr}", (Func<BprMf>)(() => BprMf.Fit(split.Train, split.Validation, new BprOptions { LearningRate = lr }))), m => $"best epoch {m.BestEpoch}");
    SelectAndReport("LightGCN", from lr in new[] { 1e-3f, 5e-3f } select ($"lr={lr}", (Func<LightGcn>)(() => LightGcn.Fit(split.Train, split.Validation, new LightGcnOptions { LearningRate = lr }))), m => $"best epoch {m.BestEpoch}");

    Console.WriteLine("| model | chosen on validation | Recall@10 | NDCG@10 | Hit@10 | MRR@10 | Precision@10 | ItemCoverage@20 | train s |");
    Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    foreach (var r in rows) Console.WriteLine(r);
    Console.WriteLine();
}

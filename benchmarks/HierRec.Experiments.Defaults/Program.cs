// Default options on datasets they were not tuned on (issue 15, target 5), faster than the Baselines sample:
//
//   dotnet run -c Release --project benchmarks/HierRec.Experiments.Defaults -- --dataset synthetic|ml-100k|lastfm-2k \
//       [--data ../shared/data] [--seeds 3] [--variants defaults,batch32,batch32-d128] [--protocol random|loo] [--test] \
//       [--synthetic users=1500,items=2000,mean=12,friends=0,homophily=0.8,influence=0.3,popularity=1.2,seed=11] [--ease]
//
// --synthetic changes the synthetic generator's settings (SyntheticOptions; unnamed ones keep their defaults), for
// checking the defaults on data they were never looked at on; --ease adds EASE (λ grid 50 … 1000) as a reference.
//
// The Baselines sample's random 8:1:1 split (split seed 2020 + seed − 1; with --protocol loo its chronological
// leave-one-out split, the same for every seed, HierRec scoring test from the training and validation items as the
// Baselines sample has it do under that protocol) and `HierarchicalRecommender.Fit` with
// `new RecommenderOptions { Seed = seed }`, changed only by the variant named: "batch32" (training batches of 32 users),
// "d128" (dimension 128), "batch32-d128" (both: the Baselines sample's tuned full model's settings). ItemKNN and BPR-MF
// with the Baselines sample's grids, as the references target 5 names. Validation NDCG@10 for every row; with --test,
// test NDCG@10 too (a design run leaves it out: test is evaluated once, for the settings validation chose).
using System.Diagnostics;
using HierRec;
using HierRec.Baselines;
using HierRec.Data;
using HierRec.Evaluation;
using HierRec.Training;

string dataRoot = "../shared/data", dataset = "synthetic", protocol = "random";
int seeds = 3;
string[] variants = ["defaults", "batch32", "batch32-d128"];
bool test = args.Contains("--test"), withEase = args.Contains("--ease");
var synthetic = new SyntheticOptions();
for (int a = 0; a < args.Length - 1; a++)
{
    if (args[a] == "--data") dataRoot = args[a + 1];
    if (args[a] == "--dataset") dataset = args[a + 1];
    if (args[a] == "--seeds") seeds = int.Parse(args[a + 1], System.Globalization.CultureInfo.InvariantCulture);
    if (args[a] == "--variants") variants = args[a + 1].Split(',');
    if (args[a] == "--protocol") protocol = args[a + 1];
    if (args[a] == "--synthetic") synthetic = Synthetic(args[a + 1]);
}

static SyntheticOptions Synthetic(string settings)
{
    string[] names = ["users", "items", "mean", "friends", "homophily", "influence", "popularity", "seed"];
    var given = new Dictionary<string, string>();
    foreach (var pair in settings.Split(',', StringSplitOptions.RemoveEmptyEntries))
    {
        var kv = pair.Split('=', 2);
        if (kv.Length != 2 || !names.Contains(kv[0]))
            throw new ArgumentException($"--synthetic: '{pair}' is not name=value with a name of {string.Join(", ", names)}.");
        given[kv[0]] = kv[1];
    }
    var inv = System.Globalization.CultureInfo.InvariantCulture;
    var d = new SyntheticOptions();
    int I(string name, int fallback) => given.TryGetValue(name, out var v) ? int.Parse(v, inv) : fallback;
    double D(string name, double fallback) => given.TryGetValue(name, out var v) ? double.Parse(v, inv) : fallback;
    return new SyntheticOptions
    {
        Users = I("users", d.Users), Items = I("items", d.Items), MeanInteractions = I("mean", d.MeanInteractions),
        FriendsPerUser = I("friends", d.FriendsPerUser), Homophily = D("homophily", d.Homophily),
        SocialInfluence = D("influence", d.SocialInfluence), PopularityBias = D("popularity", d.PopularityBias),
        Seed = given.TryGetValue("seed", out var seed) ? ulong.Parse(seed, inv) : d.Seed,
    };
}

RecommenderOptions Variant(string name, ulong seed)
{
    var o = new RecommenderOptions { Seed = seed };
    return name switch
    {
        "defaults" => o,
        "batch32" => o with { Training = o.Training with { BatchSize = 32 } },
        "d128" => o with { Model = o.Model with { Dimension = 128 } },
        "batch32-d128" => o with { Training = o.Training with { BatchSize = 32 }, Model = o.Model with { Dimension = 128 } },
        _ => throw new ArgumentException($"Unknown variant '{name}' (defaults, batch32, d128, batch32-d128)."),
    };
}

var rows = new List<(string Model, int Seed, double Validation, double Test, double TestHit, double Seconds, string Note)>();
for (int seed = 1; seed <= seeds; seed++)
{
    ulong splitSeed = 2020 + (ulong)(seed - 1);
    var data = dataset switch
    {
        "ml-100k" => MovieLens100K.Load(Path.Combine(dataRoot, "ml-100k")),
        "lastfm-2k" => LastFm2K.Load(Path.Combine(dataRoot, "hetrec2011-lastfm-2k")),
        "synthetic" => SyntheticDataset.Generate(synthetic),
        _ => throw new ArgumentException($"Unknown dataset '{dataset}' (synthetic, ml-100k or lastfm-2k)."),
    };
    data = Splits.Deduplicate(Splits.ToImplicit(data));
    bool loo = protocol switch { "random" => false, "loo" => true, _ => throw new ArgumentException($"--protocol {protocol}: use random or loo.") };
    var split = loo ? Splits.LeaveOneOut(data) : Splits.RandomRatioPerUser(data, 0.8, 0.1, 0.1, seed: splitSeed);
    var evaluator = new Evaluator { Ks = [10] };

    void Report(string name, IScoringModel model, double seconds, string note, IScoringModel? forTest = null)
    {
        double v = evaluator.Evaluate(model, split.Validation, split.Train)["ndcg@10"];
        var tm = test ? evaluator.Evaluate(forTest ?? model, split.Test, split.Train, split.Validation).Metrics : null;
        double t = tm?["ndcg@10"] ?? double.NaN, hit = tm?["hit@10"] ?? double.NaN;
        rows.Add((name, seed, v, t, hit, seconds, note));
        Console.WriteLine($"{dataset} seed {seed} | {name} | validation {v:F4} | test {(test ? $"{t:F4} (Hit@10 {hit:F4})" : "-")} | {seconds:F1} s | {note}");
    }

    // The baselines, each its grid's best on validation (as the Baselines sample chooses).
    void Best<T>(string name, IEnumerable<(string Label, Func<T> Fit)> grid) where T : IScoringModel
    {
        (string Label, T Model, double V, double S) best = default;
        foreach (var (label, fit) in grid)
        {
            var sw = Stopwatch.StartNew();
            var m = fit();
            double s = sw.Elapsed.TotalSeconds, v = evaluator.Evaluate(m, split.Validation, split.Train)["ndcg@10"];
            if (best.Model is null || v > best.V) best = (label, m, v, s);
        }
        Report(name, best.Model!, best.S, best.Label!);
    }
    Best("ItemKNN", from k in new[] { 50, 100, 200 } from sh in new[] { 0.0, 10.0 } select ($"k={k}, shrink={sh}", (Func<ItemKnn>)(() => new ItemKnn(split.Train, k, sh))));
    if (withEase) Best("EASE", from l in new[] { 50.0, 100, 250, 500, 1000 } select ($"λ={l}", (Func<Ease>)(() => new Ease(split.Train, l))));
    Best("BPR-MF", from lr in new[] { 1e-3f, 5e-3f } select ($"lr={lr}", (Func<BprMf>)(() => BprMf.Fit(split.Train, split.Validation, new BprOptions { LearningRate = lr, Seed = splitSeed }))));
    foreach (var variant in variants)
    {
        var sw = Stopwatch.StartNew();
        var r = HierarchicalRecommender.Fit(split.Train, split.Validation, Variant(variant, (ulong)seed));
        double s = sw.Elapsed.TotalSeconds;
        if (r.CollaborativeReport is { } cr) // the validation curve γ was chosen on
            Console.WriteLine($"  {variant}, seed {seed}: validation NDCG@10 per γ: " + string.Join(", ", cr.WeightValidation.Select(p => $"{p.Key}: {p.Value:F4}")));
        Report("HierRec " + variant, r.AsScoringModel(), s, $"best epoch {r.TrainingReport!.BestEpoch}, γ {r.CollaborativeWeight}, γ_s {r.SequentialWeight}",
            loo ? r.AsScoringModel(split.Train, split.Validation) : null);
    }
}

Console.WriteLine();
Console.WriteLine($"| {dataset}, {protocol}, {seeds} seeds | validation NDCG@10 (per seed) | mean | test NDCG@10 (per seed) | mean | test Hit@10 | train s |");
Console.WriteLine("|---|---|---:|---|---:|---:|---:|");
foreach (var g in rows.GroupBy(r => r.Model))
{
    static string Ms(IEnumerable<double> xs)
    {
        var a = xs.ToArray();
        double m = a.Average(), sd = a.Length > 1 ? Math.Sqrt(a.Sum(x => (x - m) * (x - m)) / (a.Length - 1)) : 0;
        return $"{m:F4} ± {sd:F4}";
    }
    Console.WriteLine($"| {g.Key} | {string.Join(" / ", g.Select(r => r.Validation.ToString("F4")))} | {Ms(g.Select(r => r.Validation))} | "
        + $"{(test ? string.Join(" / ", g.Select(r => r.Test.ToString("F4"))) : "-")} | {(test ? Ms(g.Select(r => r.Test)) : "-")} | {(test ? Ms(g.Select(r => r.TestHit)) : "-")} | {g.Average(r => r.Seconds):F1} |");
}
return 0;

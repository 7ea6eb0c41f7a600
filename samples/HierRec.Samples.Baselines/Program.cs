// HierRec.Samples.Baselines: the classic baselines on real data, under RecBole's protocol.
//
//   dotnet run -c Release --project samples/HierRec.Samples.Baselines -- --data ../shared/data --dataset all
//
// (--dataset ml-100k | lastfm-2k | synthetic | all; --data names the folder that holds ml-100k/ and hetrec2011-lastfm-2k/.)
// --hierarchical adds HierRec's hierarchical model to the same run: the full model (learning rate chosen on
// validation; its collaborative dimension's λ and weight too), the same fit served without the collaborative
// dimension, each layer removed in turn with the same settings, and the cold-start experiment (first seed only).
// --seeds N repeats everything over N seeds of split and initialisation (seed s: split seed 2020 + s − 1, every
// model's initialisation seeded from s) and ends with a table of mean ± sd over the seeds; --first-seed K starts at seed
// K instead of 1 (to run the seeds of a long protocol in parts).
// --protocol loo: RecBole's sequential protocol instead (chronological leave-one-out: each user's last interaction is
// test, the second-to-last validation; the split is the same for every seed, only initialisation varies), with SASRec
// and BERT4Rec added, fed the validation item as part of the sequence at test time.
//
// Scenario: load MovieLens-100K (every rating kept as an implicit interaction), split each user's interactions
// at random 8:1:1 (seed 2020), pick each baseline's hyper-parameters by NDCG@10 on the validation split only, then
// report full-ranking test metrics (training and validation items excluded) and the training wall time, as Markdown.
// Baselines: MostPopular, ItemKNN, EASE (catalogues up to 20,000 items), BPR-MF, LightGCN, Mult-VAE (RecBole's defaults).
using System.Diagnostics;
using HierRec;
using HierRec.Baselines;
using HierRec.Training;
using HierRec.Users;
using HierRec.Data;
using HierRec.Evaluation;

string dataRoot = "../shared/data", dataset = "ml-100k";
bool hierarchical = args.Contains("--hierarchical");
bool noColdStart = args.Contains("--no-cold-start");
bool noMultVae = args.Contains("--no-mult-vae"); // its RecBole batching (one row per training interaction) costs ~100 s an epoch at Last.fm's 17.6k items
bool socialOnly = args.Contains("--social-ablation-only"); // Last.fm-2K in reasonable time: of the ablations, only the social layer's
int seeds = 1, firstSeed = 1;
string protocol = "random";
for (int a = 0; a < args.Length - 1; a++)
{
    if (args[a] == "--data") dataRoot = args[a + 1];
    if (args[a] == "--dataset") dataset = args[a + 1];
    if (args[a] == "--protocol") protocol = args[a + 1];
    if (args[a] == "--seeds") seeds = int.Parse(args[a + 1], System.Globalization.CultureInfo.InvariantCulture);
    if (args[a] == "--first-seed") firstSeed = int.Parse(args[a + 1], System.Globalization.CultureInfo.InvariantCulture); // resume a long run: seeds firstSeed … firstSeed + seeds − 1
}
string[] datasets = dataset == "all" ? ["ml-100k", "lastfm-2k", "synthetic"] : [dataset];
foreach (var name in datasets)
{
    if (name != "synthetic" && !Directory.Exists(dataRoot))
    {
        Console.Error.WriteLine($"skipped {name}: data not present ({Path.GetFullPath(dataRoot)}); pass --data <folder>.");
        continue;
    }
    var results = new List<(string Model, int Seed, double Validation, IReadOnlyDictionary<string, double> Test, double Seconds)>();
    for (int seed = firstSeed; seed < firstSeed + seeds; seed++) RunOne(name, seed, results);
    if (seeds > 1) Summary(name, results);
}
return 0;

// Mean ± sample standard deviation over the seeds, per model, in the order the models first ran.
void Summary(string name, List<(string Model, int Seed, double Validation, IReadOnlyDictionary<string, double> Test, double Seconds)> results)
{
    static string Ms(IEnumerable<double> xs)
    {
        var a = xs.ToArray();
        double m = a.Average(), sd = a.Length > 1 ? Math.Sqrt(a.Sum(x => (x - m) * (x - m)) / (a.Length - 1)) : 0;
        return $"{m:F4} ± {sd:F4}";
    }
    Console.WriteLine($"### {name}: mean ± sd over {seeds} seeds (validation NDCG@10 chose every setting; test evaluated once per seed)");
    Console.WriteLine();
    Console.WriteLine("| model | validation NDCG@10 | test NDCG@10 | test Recall@10 | test Hit@10 | test MRR@10 | train s |");
    Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
    foreach (var g in results.GroupBy(r => r.Model))
        Console.WriteLine($"| {g.Key} | {Ms(g.Select(r => r.Validation))} | {Ms(g.Select(r => r.Test["ndcg@10"]))} | {Ms(g.Select(r => r.Test["recall@10"]))} | {Ms(g.Select(r => r.Test["hit@10"]))} | {Ms(g.Select(r => r.Test["mrr@10"]))} | {g.Average(r => r.Seconds):F1} |");
    Console.WriteLine();
}



void RunOne(string dataset, int seed, List<(string Model, int Seed, double Validation, IReadOnlyDictionary<string, double> Test, double Seconds)> results)
{
    ulong baseSeed = 2020 + (ulong)(seed - 1);
    var data = dataset switch
    {
        "ml-100k" => MovieLens100K.Load(Path.Combine(dataRoot, "ml-100k")),
        "lastfm-2k" => LastFm2K.Load(Path.Combine(dataRoot, "hetrec2011-lastfm-2k")),
        "synthetic" => SyntheticDataset.Generate(),
        _ => throw new ArgumentException($"Unknown dataset '{dataset}' (ml-100k, lastfm-2k or synthetic)."),
    };
    data = Splits.Deduplicate(Splits.ToImplicit(data));
    bool loo = protocol == "loo";
    if (!loo && protocol != "random") throw new ArgumentException($"--protocol {protocol}: use random or loo.");
    var split = loo ? Splits.LeaveOneOut(data) : Splits.RandomRatioPerUser(data, 0.8, 0.1, 0.1, seed: baseSeed);
    var stats = DatasetStatistics.Of(data);
    Console.WriteLine($"## {dataset}, {(loo ? "chronological leave-one-out" : "random 8:1:1")}, seed {seed}{(loo ? "" : $" (split seed {baseSeed})")}: {stats.Users} users, {stats.Items} items, {stats.Interactions} interactions (density {stats.Density:P2}); train {split.Train.Interactions.Count}, validation {split.Validation.Interactions.Count}, test {split.Test.Interactions.Count}");
    Console.WriteLine();

    var evaluator = new Evaluator { Ks = [10, 20] };
    var rows = new List<string>();

    void Report(string name, string chosen, IScoringModel model, double seconds, double validation)
    {
        var test = evaluator.Evaluate(model, split.Test, split.Train, split.Validation);
        results.Add((name, seed, validation, test.Metrics, seconds));
        rows.Add($"| {name} | {chosen} | {test["recall@10"]:F4} | {test["ndcg@10"]:F4} | {test["hit@10"]:F4} | {test["mrr@10"]:F4} | {test["precision@10"]:F4} | {test["itemcoverage@20"]:F4} | {seconds:F1} |");
        Console.Error.WriteLine(rows[^1]);
    }

    // Fits every candidate, keeps the one with the best validation NDCG@10 (test data is never looked at here), and
    // reports it on test with its own training time.
    void SelectAndReport<T>(string name, IEnumerable<(string Label, Func<T> Fit)> candidates, Func<T, string>? describe = null, Func<T, IScoringModel>? forTest = null) where T : IScoringModel
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
        Report(name, best.Label + (describe is null ? "" : ", " + describe(best.Model!)), forTest is null ? best.Model! : forTest(best.Model!), best.Seconds, best.Ndcg);
    }

    SelectAndReport("MostPopular", [("-", () => new MostPopular(split.Train))]);
    SelectAndReport("ItemKNN", from k in new[] { 50, 100, 200 } from sh in new[] { 0.0, 10.0 } select ($"k={k}, shrink={sh}", (Func<ItemKnn>)(() => new ItemKnn(split.Train, k, sh))));
    if (data.ItemCount <= 20_000) // EASE solves densely (libtorch): ~1 min and ~9 GB at Last.fm's 17,632 items
    {
        SelectAndReport("EASE", from l in new[] { 50.0, 100, 250, 500, 1000 } select ($"λ={l}", (Func<Ease>)(() => new Ease(split.Train, l))));
    }
    SelectAndReport("BPR-MF", from lr in new[] { 1e-3f, 5e-3f } select ($"lr={lr}", (Func<BprMf>)(() => BprMf.Fit(split.Train, split.Validation, new BprOptions { LearningRate = lr, Seed = baseSeed }))), m => $"best epoch {m.BestEpoch}");
    SelectAndReport("LightGCN", from lr in new[] { 1e-3f, 5e-3f } select ($"lr={lr}", (Func<LightGcn>)(() => LightGcn.Fit(split.Train, split.Validation, new LightGcnOptions { LearningRate = lr, Seed = baseSeed }))), m => $"best epoch {m.BestEpoch}");

    SasRec? sasRec = null;
    if (!noMultVae) SelectAndReport("Mult-VAE", [("RecBole defaults", () => MultVae.Fit(split.Train, split.Validation, new MultVaeOptions { Seed = baseSeed }))], m => $"best epoch {m.BestEpoch}");
    if (loo)
    {
        // Validation ranks from the training sequence; test from training + validation, as RecBole's sequential protocol does.
        SelectAndReport("SASRec", [("RecBole defaults", () => SasRec.Fit(split.Train, split.Validation, new SequentialOptions { Seed = baseSeed }))], m => { sasRec = m; return $"best epoch {m.BestEpoch}"; }, m => m.WithHistory(split.Train, split.Validation));
        SelectAndReport("BERT4Rec", [("RecBole defaults", () => Bert4Rec.Fit(split.Train, split.Validation, new SequentialOptions { Seed = baseSeed }))], m => $"best epoch {m.BestEpoch}", m => m.WithHistory(split.Train, split.Validation));
    }

    if (hierarchical)
    {
        // One domain BERT, pre-trained once on the item texts (MLM) and shared, frozen, by every fit below.
        var bertOptions = new HierRec.Text.DomainBertOptions { Epochs = 4, VocabularySize = 3000 };
        var sw0 = Stopwatch.StartNew();
        var bert = HierRec.Text.DomainBert.Pretrain(HierRec.Items.ItemTexts.FromFeatures(split.Train.ItemFeatures), bertOptions, out var mlm);
        Console.Error.WriteLine($"  domain BERT: held-out perplexity {mlm.InitialPerplexity:F1} -> {mlm.EpochPerplexities[^1]:F1} ({sw0.Elapsed.TotalSeconds:F0} s)");
        // One sequential dimension shared by the fits below too: the SASRec baseline's own model under leave-one-out, one
        // SASRec (RecBole defaults) fitted here under the random split; none where no user's training interactions carry
        // two timestamps (Last.fm-2K), which Fit then reports as the reason the dimension is off.
        var sw1 = Stopwatch.StartNew();
        bool ordered = split.Train.Interactions.GroupBy(x => x.User).Any(g => g.Select(x => x.Timestamp).Distinct().Skip(1).Any());
        var sequential = sasRec is not null ? HierRec.Fusion.SequentialDimension.From(sasRec)
            : ordered ? HierRec.Fusion.SequentialDimension.Fit(split.Train, split.Validation, new SequentialOptions { Seed = baseSeed }) : null;
        if (sequential is not null)
            Console.Error.WriteLine($"  sequential dimension: SASRec best epoch {sequential.BestEpoch} ({sw1.Elapsed.TotalSeconds:F0} s{(sasRec is null ? "" : ", the baseline's")})");
        RecommenderOptions Options(float lr, HierarchicalOptions model) => new()
        {
            Sequential = new HierRec.Fusion.SequentialDimensionOptions { Pretrained = sequential },
            Model = model,
            Bert = bert,
            Training = new HierarchicalTrainingOptions { Epochs = 60, BatchSize = 32, LearningRate = lr, Patience = 8, Seed = (ulong)seed },
            DomainBert = bertOptions,
            Seed = (ulong)seed,
        };
        var full = new HierarchicalOptions { Dimension = 128 };
        // Under leave-one-out HierRec, like the sequential baselines, reads the validation item at test time (see README).
        Func<FittedHierarchical, IScoringModel>? forTest = loo ? m => m.Recommender.AsScoringModel(split.Train, split.Validation) : null;
        float chosenLr = 0;
        HierarchicalRecommender? fullFit = null;
        SelectAndReport("HierRec hierarchical (full)", from lr in new[] { 1e-3f, 2e-3f } select ($"lr={lr}", (Func<FittedHierarchical>)(() =>
        {
            var f = new FittedHierarchical(HierarchicalRecommender.Fit(split.Train, split.Validation, Options(lr, full)), lr);
            if (f.Recommender.CollaborativeReport is { } c)
                Console.Error.WriteLine($"    collaborative: λ {string.Join(", ", c.LambdaValidation.Select(p => $"{p.Key}: {p.Value:F4}"))}; γ {string.Join(", ", c.WeightValidation.Select(p => $"{p.Key}: {p.Value:F4}"))}");
            if (f.Recommender.SequentialReport is { } q)
                Console.Error.WriteLine($"    sequential: γ_s {string.Join(", ", q.WeightValidation.Select(p => $"{p.Key}: {p.Value:F4}"))}");
            if (f.Recommender.FriendItemsReport is { } fi)
                Console.Error.WriteLine($"    friends' items: γ_f {string.Join(", ", fi.WeightValidation.Select(p => $"{p.Key}: {p.Value:F4}"))}");
            return f;
        })), m => { chosenLr = m.LearningRate; fullFit = m.Recommender; return $"best epoch {m.Recommender.TrainingReport!.BestEpoch}, layers {string.Join("+", m.Recommender.Model.Options.LayerNames)}{(m.Recommender.Model.Options.UseText ? "+text" : "")}{Collaborative(m.Recommender)}"; }, forTest);
        // The same fit, served without the collaborative dimension (the hierarchical model's own scores).
        var alone = new HierarchicalScoringModel(fullFit!.Model, fullFit.Context);
        Report("HierRec − collaborative and sequential dimensions (same fit)", "γ = γ_s = 0", alone, 0, evaluator.Evaluate(alone, split.Validation, split.Train)["ndcg@10"]);
        if (data.SocialEdges.Count > 0)
        {
            // The same fit served without the friends' items dimension (everything else as served); on every seed, so
            // the summary's mean is over all of them (where validation chose γ_f = 0 it is the full model's row).
            var noFriendItems = fullFit.AsScoringModel(friendItems: false);
            Report("HierRec − friends' items (same fit)", fullFit.FriendItems is null ? "γ_f = 0 (chosen: as the full model)" : "γ_f = 0", noFriendItems, 0, evaluator.Evaluate(noFriendItems, split.Validation, split.Train)["ndcg@10"]);
        }
        // What a new user gets: Fit with default options (its own domain BERT, every default), nothing chosen here.
        SelectAndReport("HierRec with default options", [("defaults", () => new FittedHierarchical(HierarchicalRecommender.Fit(split.Train, split.Validation, new RecommenderOptions { Seed = (ulong)seed }), 0))],
            m => $"best epoch {m.Recommender.TrainingReport!.BestEpoch}, layers {string.Join("+", m.Recommender.Model.Options.LayerNames)}{(m.Recommender.Model.Options.UseText ? "+text" : "")}{Collaborative(m.Recommender)}", forTest);
        SelectAndReport("HierRec − sequential dimension", [($"lr={chosenLr}", () => new FittedHierarchical(HierarchicalRecommender.Fit(split.Train, split.Validation,
            Options(chosenLr, full) with { Sequential = new HierRec.Fusion.SequentialDimensionOptions { Enabled = false } }), chosenLr))],
            m => $"best epoch {m.Recommender.TrainingReport!.BestEpoch}{Collaborative(m.Recommender)}", forTest);
        var ablations = new List<(string, HierarchicalOptions)>
        {
            ("− profile layer", full with { UseProfile = false }),
            ("− behaviour layer", full with { UseBehaviour = false, UseSocial = false }),
            ("− item text (ids only)", full with { UseText = false }),
        };
        // Without the social graph at all: neither the social layer nor the friends' items dimension.
        const string noSocial = "− social layer and friends' items";
        if (data.SocialEdges.Count > 0) ablations.Insert(2, (noSocial, full with { UseSocial = false }));
        if (socialOnly) ablations.RemoveAll(a => a.Item1 != noSocial);
        foreach (var (label, model) in ablations)
            SelectAndReport("HierRec " + label, [($"lr={chosenLr}", () => new FittedHierarchical(HierarchicalRecommender.Fit(split.Train, split.Validation,
                Options(chosenLr, model) with { FriendItems = new HierRec.Fusion.FriendItemsOptions { Enabled = label != noSocial } }), chosenLr))],
                m => $"best epoch {m.Recommender.TrainingReport!.BestEpoch}{Collaborative(m.Recommender)}", forTest);
        if (seed == 1 && !loo && !noColdStart) ColdStart(data, Options(chosenLr, full));
    }

    Console.WriteLine("| model | chosen on validation | Recall@10 | NDCG@10 | Hit@10 | MRR@10 | Precision@10 | ItemCoverage@20 | train s |");
    Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    foreach (var r in rows) Console.WriteLine(r);
    Console.WriteLine();
}


// Cold start: 10 % of the users with at least 10 interactions are held out of training entirely (seed 2020). The model
// is trained on the other users (random 8:1:1 of their interactions, early stopping on their validation part); each
// held-out user is then served from the profile, the friends and the chronologically first 5 interactions only, and
// judged on the rest of the user's interactions (top 10, the 5 excluded). MostPopular is scored the same way, and the
// same model's warm test users under the usual protocol are shown beside them.
void ColdStart(Dataset data, RecommenderOptions options)
{
    var rng = new HierRec.Rng(2020);
    var byUser = data.Interactions.GroupBy(x => x.User).ToDictionary(g => g.Key, g => g.OrderBy(x => x.Timestamp).ToList());
    var eligible = byUser.Where(kv => kv.Value.Count >= 10).Select(kv => kv.Key).Order().ToArray();
    rng.Shuffle(eligible.AsSpan());
    var cold = eligible.Take(Math.Max(1, data.UserCount / 10)).ToHashSet();
    var warmData = data.WithInteractions(data.Interactions.Where(x => !cold.Contains(x.User)).ToList());
    var split = Splits.RandomRatioPerUser(warmData, 0.8, 0.1, 0.1, seed: 2020);
    var sw = Stopwatch.StartNew();
    var recommender = HierarchicalRecommender.Fit(split.Train, split.Validation, options);
    double seconds = sw.Elapsed.TotalSeconds;
    var popularity = new double[data.ItemCount];
    foreach (var x in split.Train.Interactions) popularity[x.Item]++;
    var popular = Enumerable.Range(0, data.ItemCount).OrderByDescending(i => popularity[i]).ThenBy(i => i).ToArray();
    var friends = data.FriendLists();
    double ndcgModel = 0, recallModel = 0, ndcgPop = 0, recallPop = 0;
    foreach (int u in cold)
    {
        var history = byUser[u];
        var first = history.Take(5).Select(x => x.Item).ToArray();
        var relevant = history.Skip(5).Select(x => x.Item).ToHashSet();
        var recent = first.Reverse().Select(i => data.Items.ToExternal(i)).ToArray(); // most recent first
        var known = friends[u].Where(f => !cold.Contains(f)).Select(f => data.Users.ToExternal(f)).ToArray();
        var top = recommender.RecommendForNewUser(UserProfile.From(data.UserFeatures, u), known, recent, 10).Select(r => r.ItemIndex).ToArray();
        var pop = popular.Where(i => !first.Contains(i)).Take(10).ToArray();
        ndcgModel += RankingMetrics.Ndcg(top, relevant, 10);
        recallModel += RankingMetrics.Recall(top, relevant, 10);
        ndcgPop += RankingMetrics.Ndcg(pop, relevant, 10);
        recallPop += RankingMetrics.Recall(pop, relevant, 10);
    }
    int n = cold.Count;
    var warm = new Evaluator { Ks = [10] }.Evaluate(new HierarchicalScoringModel(recommender.Model, recommender.Context), split.Test, split.Train, split.Validation);
    Console.WriteLine($"### {data.Name}: cold start ({n} held-out users served from profile, friends and first 5 interactions; model trained in {seconds:F0} s)");
    Console.WriteLine();
    Console.WriteLine("| users | model | Recall@10 | NDCG@10 |");
    Console.WriteLine("|---|---|---:|---:|");
    Console.WriteLine($"| held out ({n}) | MostPopular | {recallPop / n:F4} | {ndcgPop / n:F4} |");
    Console.WriteLine($"| held out ({n}) | HierRec hierarchical | {recallModel / n:F4} | {ndcgModel / n:F4} |");
    Console.WriteLine($"| warm test users ({warm.Users}) | HierRec hierarchical | {warm["recall@10"]:F4} | {warm["ndcg@10"]:F4} |");
    Console.WriteLine();
}

static string Collaborative(HierarchicalRecommender r) => (r.CollaborativeReport is { } c
    ? $", collaborative λ={c.Lambda} γ={c.Weight}" : r.DisabledLayers.TryGetValue("collaborative", out var why) ? $", collaborative off ({why})" : "")
    + (r.SequentialReport is { } q ? $", sequential γ_s={q.Weight}" : r.DisabledLayers.TryGetValue("sequential", out var off) ? $", sequential off ({off})" : "")
    + (r.FriendItemsReport is { } f ? $", friends' items γ_f={f.Weight} (newcomers {string.Join(" ", f.NewUserWeights.Select(p => $"{p.Key}+: {p.Value}"))})" : "");

/// <summary>A fitted hierarchical recommender as an <see cref="IScoringModel"/> for the shared evaluation code: its served scores.</summary>
sealed class FittedHierarchical(HierarchicalRecommender recommender, float learningRate) : IScoringModel
{
    private readonly IScoringModel _scoring = recommender.AsScoringModel();

    public HierarchicalRecommender Recommender { get; } = recommender;

    public float LearningRate { get; } = learningRate;

    public int ItemCount => _scoring.ItemCount;

    public void ScoreUsers(ReadOnlySpan<int> users, Span<float> scores) => _scoring.ScoreUsers(users, scores);

    public int MaxParallelism => 1; // libtorch already uses every core within a call
}

// The friends' items dimension on Last.fm-2K, faster than the Baselines sample's full protocol (issue 15, target 3):
//
//   dotnet run -c Release --project benchmarks/HierRec.Experiments.FriendItems -- [--data ../shared/data] [--seed 1] [--init N]
//
// --seed picks the split (and, by default, every initialisation); --init N re-seeds only the two hierarchical fits'
// initialisation and training order (the split and the domain BERT, seeded 1 always, stay), to tell a gain from refit noise.
// The Baselines sample's split (random 8:1:1, split seed 2019 + seed) and its tuned full model (dimension 128, lr 1e-3,
// batch 32, patience 8, its domain BERT options), with only λ = 100 tried (what that sample's validation chooses on
// every Last.fm split it ran) and EASE at λ = 100 alone as the reference. Three fits: the full model with the default
// γ_f grid, the same fit served without the dimension, and a refit without the social layer and without the dimension
// (the whole social graph's gain). Validation chooses γ_f; test is evaluated once per row. About 10 minutes a seed.
//
// --cold-start: social cold start instead. 10 % of the users with at least 10 items (drawn with the split seed) are
// held out of training entirely; the model is fitted on the others (random 8:1:1 of their items) twice, with and
// without the friends' items dimension (the same seed: the same hierarchical fit, printed to check), and each held-out
// user is served by RecommendForNewUser from their known friends alone, and from their friends and 5 of their items,
// and judged on the rest of their items (those 5 excluded). MostPopular and "friends' popularity" (items by the share
// of the known friends who chose them, then by popularity) are scored the same way. About 5 minutes a seed.
// --new-user-share X trains that share of each step's users as newcomers (HierarchicalTrainingOptions.NewUserShare).
using System.Diagnostics;
using HierRec;
using HierRec.Baselines;
using HierRec.Data;
using HierRec.Evaluation;
using HierRec.Fusion;
using HierRec.Training;

string dataRoot = "../shared/data";
int seed = 1;
int? init = null;
bool coldStart = args.Contains("--cold-start");
float newUserShare = 0;
for (int a = 0; a < args.Length - 1; a++)
{
    if (args[a] == "--data") dataRoot = args[a + 1];
    if (args[a] == "--seed") seed = int.Parse(args[a + 1], System.Globalization.CultureInfo.InvariantCulture);
    if (args[a] == "--init") init = int.Parse(args[a + 1], System.Globalization.CultureInfo.InvariantCulture);
    if (args[a] == "--new-user-share") newUserShare = float.Parse(args[a + 1], System.Globalization.CultureInfo.InvariantCulture);
}
ulong fitSeed = (ulong)(init ?? seed);
ulong splitSeed = 2019 + (ulong)seed;
var data = Splits.Deduplicate(Splits.ToImplicit(LastFm2K.Load(Path.Combine(dataRoot, "hetrec2011-lastfm-2k"))));
var bertOptions = new HierRec.Text.DomainBertOptions { Epochs = 4, VocabularySize = 3000 };
if (coldStart)
{
    SocialColdStart();
    return 0;
}
var split = Splits.RandomRatioPerUser(data, 0.8, 0.1, 0.1, seed: splitSeed);
var evaluator = new Evaluator { Ks = [10] };
double Validation(IScoringModel m) => evaluator.Evaluate(m, split.Validation, split.Train)["ndcg@10"];
double Test(IScoringModel m) => evaluator.Evaluate(m, split.Test, split.Train, split.Validation)["ndcg@10"];
void Row(string name, IScoringModel m, string chosen) => Console.WriteLine($"| {name} | {chosen} | {Validation(m):F4} | {Test(m):F4} |");

Console.WriteLine($"Last.fm-2K, seed {seed} (split seed {splitSeed}), initialisation seed {fitSeed}: validation and test NDCG@10");
Console.WriteLine();
Console.WriteLine("| model | chosen on validation | validation | test |");
Console.WriteLine("|---|---|---:|---:|");
var clock = Stopwatch.StartNew();
Row("EASE", new Ease(split.Train, 100), "λ=100");
var bert = HierRec.Text.DomainBert.Pretrain(HierRec.Items.ItemTexts.FromFeatures(split.Train.ItemFeatures), bertOptions, out _);
RecommenderOptions Options(HierarchicalOptions model, FriendItemsOptions friendItems) => OptionsWith(bert, model, friendItems);
RecommenderOptions OptionsWith(HierRec.Text.BertModel bert, HierarchicalOptions model, FriendItemsOptions friendItems) => new()
{
    Sequential = new SequentialDimensionOptions { Enabled = false }, // no time order in Last.fm-2K
    Collaborative = new CollaborativeOptions { Lambdas = [100] },
    FriendItems = friendItems,
    Model = model,
    Bert = bert,
    Training = new HierarchicalTrainingOptions { Epochs = 60, BatchSize = 32, LearningRate = 1e-3f, Patience = 8, Seed = fitSeed, NewUserShare = newUserShare },
    DomainBert = bertOptions,
    Seed = fitSeed,
};
var full = new HierarchicalOptions { Dimension = 128 };
var r = HierarchicalRecommender.Fit(split.Train, split.Validation, Options(full, new FriendItemsOptions()));
string grid = string.Join(", ", r.FriendItemsReport!.WeightValidation.Select(p => $"{p.Key}: {p.Value:F4}"));
Row("HierRec (full)", r.AsScoringModel(), $"best epoch {r.TrainingReport!.BestEpoch}, γ={r.CollaborativeWeight}, γ_f={r.FriendItemsWeight}");
Row("HierRec − friends' items (same fit)", r.AsScoringModel(friendItems: false), "γ_f = 0");
var alone = HierarchicalRecommender.Fit(split.Train, split.Validation, Options(full with { UseSocial = false }, new FriendItemsOptions { Enabled = false }));
Row("HierRec − social layer and friends' items", alone.AsScoringModel(), $"best epoch {alone.TrainingReport!.BestEpoch}, γ={alone.CollaborativeWeight}");
Console.WriteLine();
Console.WriteLine($"γ_f on validation: {grid}. {clock.Elapsed.TotalMinutes:F0} min.");
return 0;

void SocialColdStart()
{
    var rng = new HierRec.Rng(splitSeed);
    var byUser = data.Interactions.GroupBy(x => x.User).ToDictionary(g => g.Key, g => g.Select(x => x.Item).ToArray());
    var eligible = byUser.Where(kv => kv.Value.Length >= 10).Select(kv => kv.Key).Order().ToArray();
    rng.Shuffle(eligible.AsSpan());
    var cold = eligible.Take(Math.Max(1, data.UserCount / 10)).ToHashSet();
    var warm = Splits.RandomRatioPerUser(data.WithInteractions(data.Interactions.Where(x => !cold.Contains(x.User)).ToList()), 0.8, 0.1, 0.1, seed: splitSeed);
    var coldBert = HierRec.Text.DomainBert.Pretrain(HierRec.Items.ItemTexts.FromFeatures(warm.Train.ItemFeatures), bertOptions, out _);
    var full = new HierarchicalOptions { Dimension = 128 };
    var clock = Stopwatch.StartNew();
    var with = HierarchicalRecommender.Fit(warm.Train, warm.Validation, OptionsWith(coldBert, full, new FriendItemsOptions()));
    var without = HierarchicalRecommender.Fit(warm.Train, warm.Validation, OptionsWith(coldBert, full, new FriendItemsOptions { Enabled = false }));
    var popularity = new double[data.ItemCount];
    foreach (var x in warm.Train.Interactions) popularity[x.Item]++;
    var popular = Enumerable.Range(0, data.ItemCount).OrderByDescending(i => popularity[i]).ThenBy(i => i).ToArray();
    var trainHistories = new List<int>[data.UserCount];
    for (int u = 0; u < data.UserCount; u++) trainHistories[u] = [];
    foreach (var x in warm.Train.Interactions) trainHistories[x.User].Add(x.Item);
    var friendLists = data.FriendLists();
    string[] models = ["MostPopular", "friends' popularity", "HierRec − friends' items", "HierRec"];
    var sums = new Dictionary<(int Given, string Model), (double Ndcg, double Recall)>();
    var withFriends = new int[2];
    foreach (int u in cold.Order())
    {
        var friends = friendLists[u].Where(f => !cold.Contains(f)).ToArray();
        var friendIds = friends.Select(f => data.Users.ToExternal(f)).ToArray();
        foreach (int given in new[] { 0, 5 })
        {
            var first = byUser[u].Take(given).ToArray();
            var relevant = byUser[u].Skip(given).ToHashSet();
            var recent = first.Reverse().Select(i => data.Items.ToExternal(i)).ToArray();
            if (friends.Length > 0) withFriends[given == 0 ? 0 : 1]++;
            var share = new Dictionary<int, int>();
            foreach (int f in friends)
                foreach (int i in trainHistories[f].Distinct()) share[i] = share.GetValueOrDefault(i) + 1;
            var lists = new Dictionary<string, int[]>
            {
                ["MostPopular"] = popular.Where(i => !first.Contains(i)).Take(10).ToArray(),
                ["friends' popularity"] = Enumerable.Range(0, data.ItemCount).Where(i => !first.Contains(i))
                    .OrderByDescending(i => share.GetValueOrDefault(i)).ThenByDescending(i => popularity[i]).ThenBy(i => i).Take(10).ToArray(),
                ["HierRec − friends' items"] = without.RecommendForNewUser(HierRec.Users.UserProfile.From(data.UserFeatures, u), friendIds, recent, 10).Select(t => t.ItemIndex).ToArray(),
                ["HierRec"] = with.RecommendForNewUser(HierRec.Users.UserProfile.From(data.UserFeatures, u), friendIds, recent, 10).Select(t => t.ItemIndex).ToArray(),
            };
            foreach (var m in models)
            {
                var (n, r) = sums.GetValueOrDefault((given, m));
                sums[(given, m)] = (n + RankingMetrics.Ndcg(lists[m], relevant, 10), r + RankingMetrics.Recall(lists[m], relevant, 10));
            }
        }
    }
    int count = cold.Count;
    Console.WriteLine($"Last.fm-2K social cold start, seed {seed} (split seed {splitSeed}), initialisation seed {fitSeed}, new-user share {newUserShare}: {count} held-out users ({withFriends[0]} with known friends), served by RecommendForNewUser");
    var warmEvaluator = new Evaluator { Ks = [10] };
    Console.WriteLine($"Warm users, served with the dimension: validation NDCG@10 {warmEvaluator.Evaluate(with.AsScoringModel(), warm.Validation, warm.Train)["ndcg@10"]:F4}, test {warmEvaluator.Evaluate(with.AsScoringModel(), warm.Test, warm.Train, warm.Validation)["ndcg@10"]:F4}");
    Console.WriteLine($"Fits: with the dimension best epoch {with.TrainingReport!.BestEpoch}, γ={with.CollaborativeWeight}, γ_f={with.FriendItemsWeight} " +
        $"(validation {string.Join(", ", with.FriendItemsReport!.WeightValidation.Select(p => $"{p.Key}: {p.Value:F4}"))}); without it best epoch {without.TrainingReport!.BestEpoch}, γ={without.CollaborativeWeight}. {clock.Elapsed.TotalMinutes:F0} min.");
    foreach (var (n, grid) in with.FriendItemsReport.NewUserValidation)
        Console.WriteLine($"Newcomers with {n}+ items: weight {with.FriendItemsReport.NewUserWeights[n]} (stand-ins' validation {string.Join(", ", grid.Select(p => $"{p.Key}: {p.Value:F4}"))})");
    Console.WriteLine();
    Console.WriteLine("| given | model | NDCG@10 | Recall@10 |");
    Console.WriteLine("|---|---|---:|---:|");
    foreach (int given in new[] { 0, 5 })
        foreach (var m in models)
            Console.WriteLine($"| friends{(given > 0 ? $" + {given} items" : " only")} | {m} | {sums[(given, m)].Ndcg / count:F4} | {sums[(given, m)].Recall / count:F4} |");
}

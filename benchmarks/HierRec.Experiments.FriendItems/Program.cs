// The friends' items dimension on Last.fm-2K, faster than the Baselines sample's full protocol (issue 15, target 3):
//
//   dotnet run -c Release --project benchmarks/HierRec.Experiments.FriendItems -- [--data ../shared/data] [--seed 1]
//
// The Baselines sample's split (random 8:1:1, split seed 2019 + seed) and its tuned full model (dimension 128, lr 1e-3,
// batch 32, patience 8, its domain BERT options), with only λ = 100 tried (what that sample's validation chooses on
// every Last.fm split it ran) and EASE at λ = 100 alone as the reference. Three fits: the full model with the default
// γ_f grid, the same fit served without the dimension, and a refit without the social layer and without the dimension
// (the whole social graph's gain). Validation chooses γ_f; test is evaluated once per row. About 10 minutes a seed.
using System.Diagnostics;
using HierRec;
using HierRec.Baselines;
using HierRec.Data;
using HierRec.Evaluation;
using HierRec.Fusion;
using HierRec.Training;

string dataRoot = "../shared/data";
int seed = 1;
for (int a = 0; a < args.Length - 1; a++)
{
    if (args[a] == "--data") dataRoot = args[a + 1];
    if (args[a] == "--seed") seed = int.Parse(args[a + 1], System.Globalization.CultureInfo.InvariantCulture);
}
ulong splitSeed = 2019 + (ulong)seed;
var data = Splits.Deduplicate(Splits.ToImplicit(LastFm2K.Load(Path.Combine(dataRoot, "hetrec2011-lastfm-2k"))));
var split = Splits.RandomRatioPerUser(data, 0.8, 0.1, 0.1, seed: splitSeed);
var evaluator = new Evaluator { Ks = [10] };
double Validation(IScoringModel m) => evaluator.Evaluate(m, split.Validation, split.Train)["ndcg@10"];
double Test(IScoringModel m) => evaluator.Evaluate(m, split.Test, split.Train, split.Validation)["ndcg@10"];
void Row(string name, IScoringModel m, string chosen) => Console.WriteLine($"| {name} | {chosen} | {Validation(m):F4} | {Test(m):F4} |");

Console.WriteLine($"Last.fm-2K, seed {seed} (split seed {splitSeed}): validation and test NDCG@10");
Console.WriteLine();
Console.WriteLine("| model | chosen on validation | validation | test |");
Console.WriteLine("|---|---|---:|---:|");
var clock = Stopwatch.StartNew();
Row("EASE", new Ease(split.Train, 100), "λ=100");
var bertOptions = new HierRec.Text.DomainBertOptions { Epochs = 4, VocabularySize = 3000 };
var bert = HierRec.Text.DomainBert.Pretrain(HierRec.Items.ItemTexts.FromFeatures(split.Train.ItemFeatures), bertOptions, out _);
RecommenderOptions Options(HierarchicalOptions model, FriendItemsOptions friendItems) => new()
{
    Sequential = new SequentialDimensionOptions { Enabled = false }, // no time order in Last.fm-2K
    Collaborative = new CollaborativeOptions { Lambdas = [100] },
    FriendItems = friendItems,
    Model = model,
    Bert = bert,
    Training = new HierarchicalTrainingOptions { Epochs = 60, BatchSize = 32, LearningRate = 1e-3f, Patience = 8, Seed = (ulong)seed },
    DomainBert = bertOptions,
    Seed = (ulong)seed,
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

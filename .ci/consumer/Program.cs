// Fits a small model, saves it, serves it through HierRec.Extensions' pool, and touches HierRec.PostgreSql: enough to
// show the packages restore, build (the TorchSharp native fix comes from HierRec's buildTransitive) and run.
using HierRec;
using HierRec.Data;
using HierRec.Extensions;
using HierRec.Text;
using HierRec.Training;
using Microsoft.Extensions.DependencyInjection;

var data = Splits.Deduplicate(Splits.ToImplicit(SyntheticDataset.Generate(new SyntheticOptions { Users = 40, Items = 60 })));
var split = Splits.RandomRatioPerUser(data, 0.8, 0.1, 0.1, seed: 1);
var recommender = HierarchicalRecommender.Fit(split.Train, split.Validation, new RecommenderOptions
{
    Model = new HierarchicalOptions { Dimension = 16 },
    Training = new HierarchicalTrainingOptions { Epochs = 1 },
    DomainBert = new DomainBertOptions { Epochs = 1, VocabularySize = 300, HiddenSize = 32 },
});
string folder = Path.Combine(Path.GetTempPath(), "hierrec-consumer-" + Guid.NewGuid().ToString("N"));
recommender.Save(folder);

var services = new ServiceCollection().AddLogging();
services.AddHierRec().FromFolder("model", folder, watchForChanges: false);
await using var provider = services.BuildServiceProvider();
var pool = provider.GetRequiredService<RecommenderPool>();
await pool.LoadAllAsync();
var top = pool.Get().Recommend(split.Train.Users.ToExternal(0), 3);
Console.WriteLine($"consumer: {top.Count} recommendations from {pool.Info()!.Items} items; {typeof(HierRec.PostgreSql.PgItemStore).Assembly.GetName().Name} loaded");
Directory.Delete(folder, recursive: true);
return top.Count == 3 ? 0 : 1;

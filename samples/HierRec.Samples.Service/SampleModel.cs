using HierRec.Data;
using HierRec.Text;
using HierRec.Training;

namespace HierRec.Samples.Service;

/// <summary>The model a fresh clone serves: fitted once on the embedded synthetic dataset and saved, then loaded from the folder.</summary>
internal static class SampleModel
{
    /// <summary>The folder of the synthetic model, fitting and saving it first when it is not there.</summary>
    public static string EnsureSynthetic(string folder, ILogger logger)
    {
        if (File.Exists(Path.Combine(folder, "recommender.json"))) return folder;
        logger.LogInformation("No model at {Folder}: fitting one on the synthetic dataset (a few seconds)", folder);
        var data = Splits.Deduplicate(Splits.ToImplicit(SyntheticDataset.Generate()));
        var split = Splits.RandomRatioPerUser(data, 0.8, 0.1, 0.1, seed: 2020);
        var recommender = HierarchicalRecommender.Fit(split.Train, split.Validation, new RecommenderOptions
        {
            Model = new HierarchicalOptions { Dimension = 64 },
            Training = new HierarchicalTrainingOptions { Epochs = 20, Patience = 4 },
            DomainBert = new DomainBertOptions { Epochs = 2, VocabularySize = 1500 },
        }, new HierRec.Extensions.TrainingProgressLogger(logger));
        recommender.Save(folder);
        return folder;
    }
}

using HierRec.Data;
using HierRec.Fusion;
using HierRec.Text;
using HierRec.Training;

namespace HierRec.Benchmarks.Training;

/// <summary>
/// <c>-- fit-peak [hidden] [layers]</c>: one <see cref="HierarchicalRecommender.Fit"/> on the synthetic dataset with a
/// domain BERT of the given size (default 256 × 4 layers, 4 heads, 1 epoch; the library's default is 64 × 2), 3 epochs,
/// the collaborative, sequential and friends' items dimensions off: the fit's wall time and the process's peak working
/// set. The training loop copies the model's state (its BERT included) at the start and at every best epoch, so the
/// peak grows with the BERT.
/// </summary>
public static class FitPeak
{
    public static void Run(TextWriter output, int hidden, int layers)
    {
        var data = Splits.Deduplicate(Splits.ToImplicit(SyntheticDataset.Generate()));
        var split = Splits.RandomRatioPerUser(data, 0.8, 0.1, 0.1, seed: 1);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var recommender = HierarchicalRecommender.Fit(split.Train, split.Validation, new RecommenderOptions
        {
            DomainBert = new DomainBertOptions { HiddenSize = hidden, Layers = layers, Heads = 4, Epochs = 1 },
            Training = new HierarchicalTrainingOptions { Epochs = 3, MinEpochs = 1 },
            Collaborative = new CollaborativeOptions { Enabled = false },
            Sequential = new SequentialDimensionOptions { Enabled = false },
            FriendItems = new FriendItemsOptions { Enabled = false },
        });
        output.WriteLine($"BERT {hidden} × {layers}: fit {clock.Elapsed.TotalSeconds:F1} s, best epoch {recommender.TrainingReport!.BestEpoch}, "
            + $"peak working set {System.Diagnostics.Process.GetCurrentProcess().PeakWorkingSet64 / 1048576} MB");
    }
}

using HierRec.Baselines;
using HierRec.Evaluation;

namespace HierRec.Tests.Baselines;

/// <summary>Tests that count the process's garbage collections, so nothing else may run beside them.</summary>
[CollectionDefinition(nameof(AloneInTheProcess), DisableParallelization = true)]
public sealed class AloneInTheProcess;

/// <summary>
/// Scoring forces no collection: a no-GC region opened per call (as the libtorch models' scoring did until 2026-12-07)
/// costs a blocking gen2 collection each time, once per evaluation batch and once per request for a new history's
/// sequence state. 20 calls with a region per call make at least 20.
/// </summary>
[Collection(nameof(AloneInTheProcess))]
public sealed class ScoringCollectionTests
{
    private const int Calls = 20;

    [Fact]
    public void Scoring_and_sequence_states_force_no_collection()
    {
        var split = TestData.Walks(3);
        using var sasRec = SasRec.Fit(split.Train, null, new SequentialOptions { Hidden = 32, Inner = 64, MaxLength = 12, MaxEpochs = 1, MinEpochs = 1 });
        using var bpr = BprMf.Fit(split.Train, null, new BprOptions { Dimension = 16, MaxEpochs = 1, MinEpochs = 1 });
        using var vae = MultVae.Fit(split.Train, null, new MultVaeOptions { Hidden = 64, Latent = 16, MaxEpochs = 1, MinEpochs = 1 });
        var scores = new float[split.Train.ItemCount];
        foreach (var (name, model) in new (string, IScoringModel)[] { ("SASRec", sasRec), ("BPR-MF", bpr), ("Mult-VAE", vae) })
            AssertFewCollections(name + " scoring", k => model.ScoreUsers([k % split.Train.UserCount], scores));
        AssertFewCollections("SASRec's state of a new history", k => sasRec.States([[k % split.Train.ItemCount, 1, 2]]));
    }

    private static void AssertFewCollections(string what, Action<int> call)
    {
        call(0); // first-call work (lazy tensors, JIT) outside the count
        int before = GC.CollectionCount(2);
        for (int k = 1; k <= Calls; k++) call(k);
        int forced = GC.CollectionCount(2) - before;
        Assert.True(forced < Calls / 4, $"{what}: {forced} gen2 collections over {Calls} calls");
    }
}

using HierRec.Baselines;
using HierRec.Data;
using HierRec.Evaluation;
using HierRec.Tests.Modules;
using HierRec.Training;
using HierRec.Users;
using TorchSharp;

namespace HierRec.Tests.Training;

public sealed class HierarchicalTrainerTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "hierrec-hier-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static (DataSplit Split, UserContext Context, Dataset Data) Synthetic()
    {
        var data = Splits.Deduplicate(Splits.ToImplicit(SyntheticDataset.Generate(new SyntheticOptions { Users = 300, Items = 400 })));
        var split = Splits.RandomRatioPerUser(data, 0.8, 0.1, 0.1, seed: 3);
        return (split, UserContext.FromDataset(split.Train, maxFriends: 10), data);
    }

    private static HierarchicalModel Model(Dataset data, DataSplit split, HierarchicalOptions options, ulong seed = 1)
    {
        using var generator = T.Gen(seed);
        var profile = new ProfileEncoder(split.Train.UserFeatures, Enumerable.Range(0, data.UserCount), options.Dimension, generator);
        return new HierarchicalModel(data.UserCount, data.ItemCount, profile, 0, options, (long)seed);
    }

    [Fact]
    public void MakeBatch_TrainsTheNewUserShareAsNewcomers_AndDrawsAsBeforeAtZero()
    {
        var (_, context, _) = Synthetic();
        var users = Enumerable.Range(0, 200).Where(u => context.Histories[u].Length >= 2).ToArray();
        // At 0 the draws are those of the call without the option: the same histories and targets, and the generator
        // ends in the same state.
        var (rngA, rngB) = (new Rng(9), new Rng(9));
        var (plain, plainTargets) = HierarchicalTrainer.MakeBatch(context, users, 0.7f, rngA);
        var (zero, zeroTargets) = HierarchicalTrainer.MakeBatch(context, users, 0.7f, rngB, newUserShare: 0);
        Assert.Equal(plain.Histories, zero.Histories);
        Assert.Equal(plainTargets, zeroTargets);
        Assert.Equal(rngA.GetState(), rngB.GetState());
        Assert.Equal(users, zero.UserIndices);
        // At 0.5 about half the rows are newcomers: no history, no user embedding (index −1), every item a target.
        var (batch, targets) = HierarchicalTrainer.MakeBatch(context, users, 0.7f, new Rng(9), newUserShare: 0.5f);
        int cold = 0;
        for (int r = 0; r < users.Length; r++)
        {
            if (batch.UserIndices![r] == -1)
            {
                cold++;
                Assert.Empty(batch.Histories[r]);
                Assert.Equal(context.Histories[users[r]], targets[r]);
            }
            else
            {
                Assert.Equal(users[r], batch.UserIndices[r]);
                Assert.NotEmpty(batch.Histories[r]);
                Assert.Equal(context.Histories[users[r]].Length, batch.Histories[r].Length + targets[r].Length);
            }
            Assert.Equal(context.Neighbours[users[r]], batch.Neighbours[r]); // friends kept either way
        }
        Assert.InRange(cold, users.Length / 4, 3 * users.Length / 4);
        Assert.Contains("NewUserShare", Assert.ThrowsAny<ArgumentException>(() => new HierarchicalTrainingOptions { NewUserShare = 1f }.Validate()).Message);
    }

    [Fact]
    public void UserContext_OrdersHistoriesMostRecentFirst_AndSamplesTwoHopNeighbours()
    {
        var users = new IdMap();
        var items = new IdMap();
        for (int i = 0; i < 4; i++) { users.GetOrAdd("u" + i); items.GetOrAdd("i" + i); }
        var data = new Dataset("tiny", users, items, [new(0, 1, 1, 20), new(0, 2, 1, 10), new(0, 3, 1, 30), new(1, 0, 1, 5)],
            socialEdges: [(0, 1), (1, 0), (1, 2), (2, 1), (2, 3), (3, 2)]);
        var ctx = UserContext.FromDataset(data, maxFriends: 5, twoHop: true);
        Assert.Equal([3, 1, 2], ctx.Histories[0]);
        Assert.Equal([1, 2], ctx.Neighbours[0]);           // friend 1, then 2 through 1
        Assert.Equal([1, 2], ctx.Hops![0]);
        Assert.Empty(ctx.Histories[3]);
    }

    [Fact]
    public void Training_BeatsMostPopular_AndReportsLayerShares()
    {
        var (split, ctx, data) = Synthetic();
        var options = new HierarchicalOptions { Dimension = 32, UseText = false };
        var model = Model(data, split, options);
        var report = new HierarchicalTrainer(new HierarchicalTrainingOptions { Epochs = 30, BatchSize = 32, LearningRate = 3e-3f, Patience = 8 })
            .Fit(model, new HierarchicalTrainingData(split.Train, split.Validation, ctx));
        Assert.True(report.EpochLosses[^1] < report.EpochLosses[0], "training loss did not fall");
        var evaluator = new Evaluator { Ks = [10] };
        using var scoring = new HierarchicalScoringModel(model, ctx);
        double ours = evaluator.Evaluate(scoring, split.Test, split.Train, split.Validation)["ndcg@10"];
        double pop = evaluator.Evaluate(new MostPopular(split.Train), split.Test, split.Train, split.Validation)["ndcg@10"];
        Assert.True(ours > 1.15 * pop, $"hierarchical NDCG@10 {ours:F4} vs MostPopular {pop:F4}");

        using var _ = torch.no_grad();
        using var encoded = model.Encode(ctx.Batch([0, 1, 2]), model.ItemVectors());
        Assert.Equal(["profile", "behaviour", "social"], options.LayerNames);
        Assert.Equal(new long[] { 3, 3 }, encoded.Contributions.shape);
        var shares = T.Values(encoded.Contributions);
        for (int r = 0; r < 3; r++) Assert.Equal(1f, shares.AsSpan(r * 3, 3).ToArray().Sum(), 1e-5f);
        Assert.NotNull(encoded.HistoryWeights);
        Assert.NotNull(encoded.FriendWeights);
    }

    [Fact]
    public void UserEmbeddings_ApplyToKnownUsersOnly()
    {
        var (split, ctx, data) = Synthetic();
        var model = Model(data, split, new HierarchicalOptions { Dimension = 16, UseText = false, UseSocial = false });
        model.eval();
        using var _ = torch.no_grad();
        using var items = model.ItemVectors();
        var known = T.Values(model.Encode(ctx.Batch([5]), items).Layers[1]);
        var asNew = T.Values(model.Encode(ctx.Batch([5]) with { UserIndices = null }, items).Layers[1]);
        var expected = T.Values(model.UserIds!.weight![5]);
        for (int j = 0; j < 16; j++) Assert.Equal(expected[j], known[j] - asNew[j], 1e-5f);
    }

    public static TheoryData<TrainingLoss> Losses => [TrainingLoss.FullSoftmax, TrainingLoss.SampledSoftmax, TrainingLoss.Bpr, TrainingLoss.BinaryCrossEntropy];

    [Theory]
    [MemberData(nameof(Losses))]
    public void EveryLoss_Trains(TrainingLoss loss)
    {
        var (split, ctx, data) = Synthetic();
        var model = Model(data, split, new HierarchicalOptions { Dimension = 16, UseText = false, UseSocial = false });
        var report = new HierarchicalTrainer(new HierarchicalTrainingOptions
        {
            Epochs = 6, BatchSize = 32, LearningRate = 3e-3f, Loss = loss, Sampling = loss == TrainingLoss.SampledSoftmax ? NegativeSampling.Popularity : NegativeSampling.Uniform,
        }).Fit(model, new HierarchicalTrainingData(split.Train, split.Validation, ctx));
        Assert.True(report.EpochLosses[^1] < report.EpochLosses[0], $"{loss}: {string.Join(", ", report.EpochLosses.Select(l => l.ToString("F4")))}");
        Assert.True(report.BestValidationNdcg > 0.02, $"{loss}: validation NDCG@10 {report.BestValidationNdcg:F4}");
    }

    [Fact]
    public void Cancellation_KeepsACheckpoint_AndTheNextRunResumesAfterTheLastEpoch()
    {
        var (split, ctx, data) = Synthetic();
        var options = new HierarchicalTrainingOptions { Epochs = 6, BatchSize = 32, CheckpointFolder = _dir, Patience = 100 };
        using var cts = new CancellationTokenSource();
        var model = Model(data, split, new HierarchicalOptions { Dimension = 16, UseText = false, UseSocial = false });
        var progress = new SyncProgress(p => { if (p.Epoch == 3 && p.ValidationMetric is not null) cts.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() => new HierarchicalTrainer(options).Fit(model, new HierarchicalTrainingData(split.Train, split.Validation, ctx), progress, cts.Token));
        Assert.True(File.Exists(Path.Combine(_dir, "resume", "state.json")));
        Assert.True(File.Exists(Path.Combine(_dir, "resume", "optimizer.bin")));
        Assert.True(File.Exists(Path.Combine(_dir, "best.safetensors")));

        var fresh = Model(data, split, new HierarchicalOptions { Dimension = 16, UseText = false, UseSocial = false }, seed: 99);
        var report = new HierarchicalTrainer(options).Fit(fresh, new HierarchicalTrainingData(split.Train, split.Validation, ctx));
        Assert.Equal(3, report.ResumedFromEpoch);
        Assert.Equal(6, report.EpochLosses.Count); // epochs 1–3 from the checkpoint, 4–6 run now

        // The resumed run is the uninterrupted run: same losses, same validation, same final weights.
        var straight = Model(data, split, new HierarchicalOptions { Dimension = 16, UseText = false, UseSocial = false });
        var whole = new HierarchicalTrainer(options with { CheckpointFolder = null }).Fit(straight, new HierarchicalTrainingData(split.Train, split.Validation, ctx));
        Assert.Equal(whole.EpochLosses, report.EpochLosses);
        Assert.Equal(whole.ValidationNdcg, report.ValidationNdcg); // the evaluator adds its parallel batches in batch order
        Assert.Equal(whole.BestEpoch, report.BestEpoch);
        var expected = straight.state_dict();
        foreach (var (name, p) in fresh.state_dict()) Assert.Equal(T.Values(expected[name]), T.Values(p));
    }

    [Fact]
    public void Resume_RefusesACheckpointOfOtherUsers()
    {
        var (split, ctx, data) = Synthetic();
        var options = new HierarchicalTrainingOptions { Epochs = 1, BatchSize = 32, CheckpointFolder = _dir };
        var model = Model(data, split, new HierarchicalOptions { Dimension = 16, UseText = false, UseSocial = false });
        new HierarchicalTrainer(options).Fit(model, new HierarchicalTrainingData(split.Train, split.Validation, ctx));
        var fewer = split.Train.WithInteractions(split.Train.Interactions.Where(x => x.User % 2 == 0).ToList());
        var fewerCtx = HierRec.Users.UserContext.FromDataset(fewer);
        var ex = Assert.Throws<InvalidDataException>(() => new HierarchicalTrainer(options with { Epochs = 2 }).Fit(model, new HierarchicalTrainingData(fewer, split.Validation, fewerCtx)));
        Assert.Contains("other training data", ex.Message);
    }

    [Fact]
    public void NonFiniteLoss_StopsWithAClearError()
    {
        var (split, ctx, data) = Synthetic();
        var model = Model(data, split, new HierarchicalOptions { Dimension = 16, UseText = false, UseSocial = false });
        var ex = Assert.Throws<InvalidOperationException>(() => new HierarchicalTrainer(new HierarchicalTrainingOptions { Epochs = 3, BatchSize = 32, LearningRate = 1e9f, ClipNorm = 0, WarmupFraction = 0 })
            .Fit(model, new HierarchicalTrainingData(split.Train, split.Validation, ctx)));
        Assert.Contains("epoch 1, step", ex.Message);
        Assert.Contains("weights it started with", ex.Message);
    }

    [Fact]
    public void Progress_ReportsEveryStepOnce_AndEveryEpochOnce()
    {
        var (split, ctx, data) = Synthetic();
        var model = Model(data, split, new HierarchicalOptions { Dimension = 16, UseText = false, UseSocial = false });
        var seen = new List<TrainingProgress>();
        new HierarchicalTrainer(new HierarchicalTrainingOptions { Epochs = 2, BatchSize = 64 })
            .Fit(model, new HierarchicalTrainingData(split.Train, split.Validation, ctx), new SyncProgress(seen.Add));
        var epochs = seen.Where(p => p.Kind == ProgressKind.Epoch).ToList();
        Assert.Equal([1, 2], epochs.Select(p => p.Epoch));
        Assert.All(epochs, p => Assert.Equal("ndcg@10", p.MetricName));
        Assert.All(epochs, p => Assert.NotNull(p.ValidationMetric));
        var steps = seen.Where(p => p.Kind == ProgressKind.Step).ToList();
        Assert.Equal(Enumerable.Range(1, steps.Count).Select(i => (long)i), steps.Select(p => p.Step));
        Assert.All(steps, p => Assert.True(p.Loss is double l && double.IsFinite(l) && p.TotalSteps == steps.Count));
    }

    [Fact]
    public void TrainingSteps_DoNotLeakTensors()
    {
        var (split, ctx, data) = Synthetic();
        var model = Model(data, split, new HierarchicalOptions { Dimension = 16, UseText = false });
        var trainer = new HierarchicalTrainer(new HierarchicalTrainingOptions { Epochs = 1, BatchSize = 32 });
        var training = new HierarchicalTrainingData(split.Train, null, ctx);
        trainer.Fit(model, training); // warm-up: caches and tables exist from here on
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        trainer.Fit(model, training);
        trainer.Fit(model, training);
        long after = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        Assert.True(after - before <= 4, $"live tensors grew from {before} to {after} over two more runs of {(split.Train.UserCount + 31) / 32} steps");
    }

    private sealed class SyncProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}

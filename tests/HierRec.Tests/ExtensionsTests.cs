using HierRec.Fusion;
using HierRec.Scoring;
using HierRec.Tests.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace HierRec.Tests;

public sealed class ExtensionsTests
{
    /// <summary>Encodes an integer n as [n, 2n, 3n] and counts its calls.</summary>
    private sealed class Counting : IEncoder<int>
    {
        public int Calls;

        public int Dimension => 3;

        public Tensor Encode(IReadOnlyList<int> inputs)
        {
            Calls++;
            return torch.tensor(inputs.SelectMany(n => new float[] { n, 2 * n, 3 * n }).ToArray(), [inputs.Count, 3]);
        }
    }

    /// <summary>Breaks the contract: one row too few.</summary>
    private sealed class Short : IEncoder<int>
    {
        public int Dimension => 3;

        public Tensor Encode(IReadOnlyList<int> inputs) => torch.zeros(Math.Max(0, inputs.Count - 1), 3);
    }

    [Fact]
    public void EncodeAll_BatchesAndKeepsTheOrder()
    {
        var encoder = new Counting();
        var all = encoder.EncodeAll(Enumerable.Range(1, 7).ToArray(), batchSize: 3);
        Assert.Equal(3, encoder.Calls);
        Assert.Equal([7f, 14f, 21f], all[6]);
        Assert.Equal([2f, 4f, 6f], encoder.EncodeOne(2));
        using var index = encoder.BuildIndex([1, 2, 3]);
        Assert.Equal([3f, 6f, 9f], index.GetVector(2));
        var ex = Assert.Throws<InvalidOperationException>(() => new Short().EncodeAll([1, 2]));
        Assert.Contains("(1, 3) for 2 inputs", ex.Message);
    }

    [Fact]
    public void ScoreAndScoreAll_AgreeWithTheScorer()
    {
        var scorer = new DotScorer();
        float[] user = [0.1f, 0.2f, 0.3f, 0.4f];
        float[] items = [0.5f, 0.1f, 0.2f, 0.2f, 0.1f, 0.3f, 0.2f, 0.4f, 0.3f, 0.2f, 0.3f, 0.2f];
        var all = scorer.ScoreAll(user, items);
        Assert.Equal([0.21f, 0.29f, 0.24f], all.Select(v => MathF.Round(v, 4)));
        Assert.Equal(all[1], scorer.Score(user, items.AsSpan(4, 4)), 6);
        Assert.Throws<ArgumentException>(() => scorer.Score(user, new float[3]));
    }

    [Fact]
    public void FuseOne_ReturnsTheFusedVectorAndTheShares()
    {
        using var g = T.Gen(1);
        var fusion = new AttentionFusion(2, 4, g);
        var fused = fusion.FuseOne([[1f, 0, 0, 0], [0, 1f, 0, 0]], out var shares);
        Assert.Equal(1.0, shares.Sum(), 5);
        Assert.Equal(shares[0], fused[0], 5); // Σ α_l v_l with one-hot layers
        Assert.Equal(shares[1], fused[1], 5);
    }

    [Fact]
    public void SynchronousProgress_CallsBackOnTheCallingThread()
    {
        int thread = Environment.CurrentManagedThreadId, seenOn = -1;
        FineTunerExtensions.Synchronous(_ => seenOn = Environment.CurrentManagedThreadId).Report(TrainingProgress.PhaseStarted("test", "now"));
        Assert.Equal(thread, seenOn);
    }
}

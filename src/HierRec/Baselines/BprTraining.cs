using HierRec.Data;
using HierRec.Evaluation;
using HierRec.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace HierRec.Baselines;

/// <summary>Pieces shared by the BPR-trained baselines: triples, negatives, and their task on the shared loop.</summary>
internal static class BprTraining
{
    /// <summary>Every (user, item) pair of the matrix, row by row.</summary>
    public static (int U, int I)[] Pairs(InteractionMatrix x)
    {
        var pairs = new (int U, int I)[x.NonZeros];
        for (int u = 0, t = 0; u < x.Users; u++) foreach (int i in x.Row(u)) pairs[t++] = (u, i);
        return pairs;
    }

    /// <summary>A uniformly drawn item the user has not interacted with.</summary>
    public static int SampleNegative(InteractionMatrix x, int u, Rng rng)
    {
        int j;
        do j = rng.NextInt(x.Items); while (x.Row(u).BinarySearch(j) >= 0);
        return j;
    }

    /// <summary>Xavier-normal rows, as RecBole initialises embeddings: N(0, 2 / (rows + cols)).</summary>
    public static Parameter XavierNormal(long rows, long cols, Generator generator)
    {
        var p = new Parameter(torch.empty(rows, cols));
        using (torch.no_grad()) p.normal_(0, Math.Sqrt(2.0 / (rows + cols)), generator);
        return p;
    }

    /// <summary>The loop options of a BPR baseline: Adam at a constant rate, no clipping, early stopping on validation NDCG@10.</summary>
    public static LoopOptions Loop(double learningRate, int maxEpochs, int patience, ulong seed, int minEpochs = 1) => new()
    {
        Epochs = maxEpochs, MinEpochs = Math.Min(minEpochs, maxEpochs), Patience = Math.Max(1, patience), LearningRate = learningRate, WeightDecay = 0, WarmupFraction = 0, Decay = false, ClipNorm = 0, Seed = seed,
    };

    /// <summary>
    /// The shared BPR task: shuffled (user, positive) pairs in batches, a uniform negative per pair, the model's loss of
    /// the triples, and validation NDCG@10 of the model as an <see cref="IScoringModel"/>.
    /// </summary>
    public sealed class Task(nn.Module model, IScoringModel scoring, InteractionMatrix x, Dataset train, Dataset? validation, int batchSize,
        Func<long[], long[], long[], Tensor> loss, Action? beforeValidation = null) : ValidatedTask(model, scoring, train, validation, beforeValidation)
    {
        private readonly (int U, int I)[] _pairs = Pairs(x);

        public override int StepsPerEpoch => (_pairs.Length + batchSize - 1) / batchSize;

        public override string DataFingerprint => $"{x.Users} users, {x.Items} items, {x.NonZeros} interactions";

        public override IEnumerable<Func<Tensor?>> Epoch(int epoch, Rng rng)
        {
            var pairs = ((int U, int I)[])_pairs.Clone();
            rng.Shuffle(pairs.AsSpan());
            for (int start = 0; start < pairs.Length; start += batchSize)
            {
                int b = Math.Min(batchSize, pairs.Length - start);
                int s0 = start;
                yield return () =>
                {
                    var u = new long[b];
                    var i = new long[b];
                    var j = new long[b];
                    for (int t = 0; t < b; t++)
                    {
                        var (pu, pi) = pairs[s0 + t];
                        u[t] = pu;
                        i[t] = pi;
                        j[t] = SampleNegative(x, pu, rng);
                    }
                    return loss(u, i, j);
                };
            }
        }
    }

    /// <summary>−log σ(s⁺ − s⁻), averaged over the batch.</summary>
    public static Tensor Loss(Tensor positive, Tensor negative) => -nn.functional.logsigmoid(positive - negative).mean();

    /// <summary>Row-wise dot products of two (B, D) tensors.</summary>
    public static Tensor RowDot(Tensor a, Tensor b) => (a * b).sum(1);

    /// <summary>(users) × (items)ᵀ scores into <paramref name="scores"/>, without gradients.</summary>
    public static void Score(Tensor userTable, Tensor itemTable, ReadOnlySpan<int> users, Span<float> scores)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var idx = torch.tensor(users.ToArray().Select(v => (long)v).ToArray(), device: userTable.device);
        var s = userTable.index_select(0, idx).matmul(itemTable.t()).to_type(ScalarType.Float32).cpu().contiguous();
        s.data<float>().CopyTo(scores);
    }
}

using HierRec.Baselines;
using HierRec.Data;
using HierRec.Evaluation;

namespace HierRec.Tests.Baselines;

public class BaselineTests
{
    private static Dataset Make(int users, int items, IEnumerable<(int U, int I)> pairs)
    {
        var um = new IdMap();
        var im = new IdMap();
        for (int u = 0; u < users; u++) um.GetOrAdd("u" + u);
        for (int i = 0; i < items; i++) im.GetOrAdd("i" + i);
        return new Dataset("t", um, im, pairs.Select(p => new Interaction(p.U, p.I, 1, 0)).ToList());
    }

    private static float[] Scores(IScoringModel m, int user)
    {
        var s = new float[m.ItemCount];
        m.ScoreUsers([user], s);
        return s;
    }

    [Fact]
    public void ItemKnn_ScoresAreSumsOfShrunkCosines()
    {
        // Items 0 and 1 share users 0 and 1; item 2 has user 1 only. User 2 has item 0.
        var d = Make(3, 3, [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2), (2, 0)]);
        var knn = new ItemKnn(d, k: 10, shrink: 1);
        var s = Scores(knn, 2);
        // |U0| = 3, |U1| = 2, |U2| = 1; co(0,1) = 2, co(0,2) = 1.
        Assert.Equal(2 / (Math.Sqrt(3) * Math.Sqrt(2) + 1), s[1], 5);
        Assert.Equal(1 / (Math.Sqrt(3) * Math.Sqrt(1) + 1), s[2], 5);
        Assert.Equal(0f, s[0]); // an item is not its own neighbour
    }

    [Fact]
    public void Ease_MatchesTheClosedForm_OnASmallCase()
    {
        var d = Make(4, 3, [(0, 0), (0, 1), (1, 0), (1, 1), (2, 1), (2, 2), (3, 0)]);
        double lambda = 2;
        var phases = new List<TrainingProgress>();
        var ease = new Ease(d, lambda, FineTunerExtensions.Synchronous(phases.Add));
        Assert.Equal(3, phases.Count); // Gram matrix, Cholesky, inverse: each reported once, as a phase
        Assert.All(phases, p => Assert.Equal((ProgressKind.Phase, "solving EASE"), (p.Kind, p.Phase)));
        // G = XᵀX + λI, P = G⁻¹, B_ij = −P_ij / P_jj (i ≠ j); user 3 has item 0, so its scores are row 0 of B.
        var g = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.DenseOfArray(new double[,] { { 3 + lambda, 2, 0 }, { 2, 3 + lambda, 1 }, { 0, 1, 1 + lambda } });
        var p = g.Inverse();
        var s = Scores(ease, 3);
        Assert.Equal(0f, s[0]);
        Assert.Equal(-p[0, 1] / p[1, 1], s[1], 5);
        Assert.Equal(-p[0, 2] / p[2, 2], s[2], 5);
    }

    /// <summary>
    /// Two groups of users, each consuming its own half of the catalogue; popularity alone cannot tell them apart.
    /// </summary>
    private static DataSplit PlantedClusters(ulong dataSeed, ulong splitSeed)
    {
        var rng = new HierRec.Rng(dataSeed);
        var pairs = new List<(int, int)>();
        for (int u = 0; u < 200; u++)
        {
            int half = u % 2;
            foreach (int i in Enumerable.Range(0, 60).Select(_ => half * 50 + rng.NextInt(50)).Distinct()) pairs.Add((u, i));
        }
        return Splits.RandomRatioPerUser(Make(200, 100, pairs), 0.8, 0.1, 0.1, splitSeed);
    }

    /// <summary>Test NDCG@10 of the model and of MostPopular on the same split.</summary>
    private static (double Model, double Popular) TestNdcg(IScoringModel model, DataSplit split)
    {
        var eval = new Evaluator { Ks = [10] };
        return (eval.Evaluate(model, split.Test, split.Train, split.Validation)["ndcg@10"],
            eval.Evaluate(new MostPopular(split.Train), split.Test, split.Train, split.Validation)["ndcg@10"]);
    }

    [Fact]
    public void BprMf_LearnsPlantedClusters_WellAboveMostPopular()
    {
        var split = PlantedClusters(5, 1);
        var bpr = BprMf.Fit(split.Train, split.Validation, new BprOptions { Dimension = 16, LearningRate = 0.01f, BatchSize = 256, MaxEpochs = 40, Patience = 5 });
        var (ndcgBpr, ndcgPop) = TestNdcg(bpr, split);
        Assert.True(ndcgBpr > ndcgPop + 0.1, $"BPR ndcg@10 {ndcgBpr:F3} vs MostPopular {ndcgPop:F3}");
        Assert.InRange(bpr.BestEpoch, 1, 40);
    }

    [Fact]
    public void LightGcn_LearnsPlantedClusters_WellAboveMostPopular()
    {
        var split = PlantedClusters(6, 2);
        var gcn = LightGcn.Fit(split.Train, split.Validation, new LightGcnOptions { Dimension = 16, LearningRate = 0.01f, BatchSize = 256, MaxEpochs = 30, Patience = 5 });
        var (ndcgGcn, ndcgPop) = TestNdcg(gcn, split);
        Assert.True(ndcgGcn > ndcgPop + 0.1, $"LightGCN ndcg@10 {ndcgGcn:F3} vs MostPopular {ndcgPop:F3}");
    }

    [Fact]
    public void MultVae_LearnsPlantedClusters_WellAboveMostPopular_AndAnnealsItsKlTerm()
    {
        var split = PlantedClusters(7, 3);
        var vae = MultVae.Fit(split.Train, split.Validation, new MultVaeOptions { Hidden = 64, Latent = 16, BatchSize = 256, MaxEpochs = 40, Patience = 5, LearningRate = 5e-3f, AnnealSteps = 100 });
        var (ndcgVae, ndcgPop) = TestNdcg(vae, split);
        Assert.True(ndcgVae > ndcgPop + 0.1, $"Mult-VAE ndcg@10 {ndcgVae:F3} vs MostPopular {ndcgPop:F3}");
        Assert.InRange(vae.BestEpoch, 1, 40);
        // Scoring is deterministic (z = μ, no dropout) and leaves the model as it was.
        var a = new float[vae.ItemCount];
        var b = new float[vae.ItemCount];
        vae.ScoreUsers([0], a);
        vae.ScoreUsers([0], b);
        Assert.Equal(a, b);
        Assert.Contains("MultVaeOptions.Latent", Assert.ThrowsAny<ArgumentException>(() => MultVae.Fit(split.Train, null, new MultVaeOptions { Latent = 15 })).Message);
    }
}

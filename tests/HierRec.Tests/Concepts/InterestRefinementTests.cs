using HierRec.Concepts;
using HierRec.Tests.Modules;
using HierRec.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace HierRec.Tests.Concepts;

/// <summary>
/// The interest's refinement for <c>RecommendByInterest</c> (<see cref="ConceptOptions.InterestRefinementEpochs"/>): kept
/// only where validation rises, and read by nothing but the interest ranking.
/// </summary>
public sealed class InterestRefinementTests
{
    private const int Users = 40, Items = 30, D = 8;

    private static (InterestEncoder Interest, Tensor Items, int[][] Histories) Setup()
    {
        var interest = new InterestEncoder(D, 20, T.Gen(1));
        var items = T.Normal(2, Items, D);
        var rng = new Rng(3);
        var histories = Enumerable.Range(0, Users).Select(_ => Enumerable.Range(0, 3 + rng.NextInt(8)).Select(_ => rng.NextInt(Items)).ToArray()).ToArray();
        return (interest, items, histories);
    }

    private static Dictionary<string, float[]> Weights(InterestEncoder interest) =>
        TorchCheckpoint.State(interest).ToDictionary(kv => kv.Key, kv => T.Values(kv.Value));

    private static bool Same(Dictionary<string, float[]> a, Dictionary<string, float[]> b) =>
        a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out var other) && kv.Value.SequenceEqual(other));

    private static void AssertUsable(InterestEncoder interest, Tensor items, int[][] histories)
    {
        using var noGrad = torch.no_grad();
        using var z = interest.Forward(items, histories);
        Assert.Equal(new long[] { Users, D }, z.shape);
        Assert.True(torch.isfinite(z).all().item<bool>()); // the encoder outlives the projection head it trained with
    }

    /// <summary>Three epochs of refinement from a validation NDCG@10 of 0.5, validated by <paramref name="validate"/> (given the call's number).</summary>
    private static (double Best, int Epochs, bool Changed) RefineFromHalf(Func<int, double> validate)
    {
        var (interest, items, histories) = Setup();
        using var _ = interest;
        using var __ = items;
        var before = Weights(interest);
        int calls = 0;
        var (best, epochs) = ConceptTrainer.RefineInterest(interest, items, histories, Enumerable.Range(0, Users).ToArray(),
            new ConceptOptions { InterestRefinementEpochs = 3, BatchSize = 16 }, before: 0.5, null, default, () => validate(++calls));
        Assert.Equal(3, calls); // it trained and validated every epoch
        AssertUsable(interest, items, histories);
        return (best, epochs, !Same(before, Weights(interest)));
    }

    [Fact]
    public void ARefinementThatDoesNotRaiseValidation_IsUndone()
    {
        var (best, epochs, changed) = RefineFromHalf(_ => 0.25);
        Assert.Equal(0.25, best);
        Assert.Equal(0, epochs);
        Assert.False(changed, "the interest must be back at its weights before the refinement");
    }

    [Fact]
    public void ARefinementThatRaisesValidation_IsKept()
    {
        var (best, epochs, changed) = RefineFromHalf(call => 0.5 + 0.1 * call);
        Assert.Equal(3, epochs);
        Assert.Equal(0.8, best, 6);
        Assert.True(changed, "the refined weights must be kept");
    }

    [Fact]
    public void WithoutValidation_TheRefinementRunsEveryEpoch_AndOffLeavesTheInterestAlone()
    {
        var (interest, items, histories) = Setup();
        using var _ = interest;
        using var __ = items;
        var active = Enumerable.Range(0, Users).ToArray();
        var before = Weights(interest);
        var off = ConceptTrainer.RefineInterest(interest, items, histories, active, new ConceptOptions { InterestRefinementEpochs = 0 }, 0.5, null, default, () => 1.0);
        Assert.Equal(0, off.Epochs);
        Assert.True(double.IsNaN(off.Best));
        Assert.True(Same(before, Weights(interest)));

        var (best, epochs) = ConceptTrainer.RefineInterest(interest, items, histories, active, new ConceptOptions { InterestRefinementEpochs = 2, BatchSize = 16 }, double.NaN, null, default, null);
        Assert.Equal(2, epochs);
        Assert.True(double.IsNaN(best));
        Assert.False(Same(before, Weights(interest)));
        AssertUsable(interest, items, histories);
    }

    [Fact]
    public void TheRefinement_ChangesOnlyWhatRecommendByInterestReads()
    {
        var (split, r, _) = ConceptFixture.Fitted.Value;
        string folder = Path.Combine(Path.GetTempPath(), "hierrec-refine-" + Guid.NewGuid().ToString("N"));
        try
        {
            r.Save(folder);
            var descriptions = Enumerable.Range(0, 60).ToDictionary(u => split.Train.Users.ToExternal(u),
                u => (IReadOnlyList<string>)[u % 3 == 0 ? "likes mystery, dislikes romance" : u % 3 == 1 ? "likes adventure and science" : "喜欢爱情电影"]);
            ConceptOptions Options(int refinement) => new()
            {
                InterestEpochs = 2, AlignmentEpochs = 3, InterestRefinementEpochs = refinement, BatchSize = 64, Bert = r.Concepts!.Encoder.Bert,
            };
            var plain = HierarchicalRecommender.Load(folder);
            var refined = HierarchicalRecommender.Load(folder);
            var plainReport = plain.FitConcepts(split.Train, split.Validation, descriptions, Options(0));
            var refinedReport = refined.FitConcepts(split.Train, split.Validation, descriptions, Options(6));
            Assert.Equal(0, plainReport.InterestRefinementEpochs);
            Assert.True(double.IsNaN(plainReport.RefinedInterestValidationNdcg));
            Assert.False(double.IsNaN(refinedReport.RefinedInterestValidationNdcg));
            Assert.InRange(refinedReport.InterestRefinementEpochs, 1, 6); // on this fixture the refinement ranks validation better…
            Assert.True(refinedReport.RefinedInterestValidationNdcg > refinedReport.InterestValidationNdcg); // …so it is kept

            // The alignment read I_u before the refinement: the descriptions' concepts, the stand-ins' choices and the
            // thresholds are those of the fit without it.
            Assert.Equal(plainReport.InterestValidationNdcg, refinedReport.InterestValidationNdcg);
            Assert.Equal(plainReport.DescriptionValidationNdcg, refinedReport.DescriptionValidationNdcg, 6);
            Assert.Equal(plainReport.NegativeThreshold, refinedReport.NegativeThreshold);
            Assert.Equal(plainReport.ColdNeighbours, refinedReport.ColdNeighbours);
            foreach (var text in new[] { "likes mystery and adventure, dislikes romance", "喜欢悬疑电影" })
            {
                var a = plain.Describe(text).Positive!;
                var b = refined.Describe(text).Positive!;
                for (int i = 0; i < a.Length; i++) Assert.Equal(a[i], b[i], 5);
            }
            var rowsA = plain.Concepts!.DescriptionVectors!;
            var rowsB = refined.Concepts!.DescriptionVectors!;
            Assert.Equal(rowsA.Length, rowsB.Length);
            for (int i = 0; i < rowsA.Length; i++) Assert.Equal(rowsA[i], rowsB[i], 5);

            // What the refinement is for: the interest itself changed where it was kept.
            string user = split.Train.Users.ToExternal(4);
            var ia = plain.Concepts!.InterestOf(plain.Context.Histories[4]);
            var ib = refined.Concepts!.InterestOf(refined.Context.Histories[4]);
            Assert.False(ia.SequenceEqual(ib));
            Assert.Equal(10, refined.RecommendByInterest(user, k: 10).Count);
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }
}

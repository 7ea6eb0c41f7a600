using HierRec.Data;
using HierRec.Fusion;
using HierRec.Scoring;
using HierRec.Tests.Modules;
using HierRec.Training;
using HierRec.Users;
using TorchSharp;
using static TorchSharp.torch;

namespace HierRec.Tests.Contracts;

/// <summary>
/// The contract every <see cref="IEncoder{TInput}"/>, <see cref="IFusion"/>, <see cref="IScorer"/> and
/// <see cref="IFineTuner{TModel, TData, TReport}"/> implementation of HierRec keeps: shapes, batch independence,
/// determinism in eval mode, no gradients under no_grad (and gradients outside it), cancellation, and a non-finite loss
/// stopping with an error that names where.
/// </summary>
public sealed class ContractTests
{
    private static readonly Lazy<(Dataset Data, DataSplit Split, UserContext Context)> Synthetic = new(() =>
    {
        var data = Splits.Deduplicate(Splits.ToImplicit(SyntheticDataset.Generate(new SyntheticOptions { Users = 120, Items = 150 })));
        var split = Splits.RandomRatioPerUser(data, 0.8, 0.1, 0.1, seed: 3);
        return (data, split, UserContext.FromDataset(split.Train, maxFriends: 6));
    });

    private static void Close(float[] expected, float[] actual, float tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.True(MathF.Abs(expected[i] - actual[i]) <= tolerance, $"{what}: [{i}] {expected[i]} vs {actual[i]}");
    }

    /// <summary>Runs the encoder contract on <paramref name="inputs"/> (at least 3).</summary>
    private static void EncoderContract<TInput>(IEncoder<TInput> encoder, nn.Module module, IReadOnlyList<TInput> inputs)
    {
        module.eval();
        int d = encoder.Dimension;
        float[] all;
        using (torch.no_grad())
        using (var x = encoder.Encode(inputs))
        {
            Assert.Equal(new long[] { inputs.Count, d }, x.shape);
            Assert.False(x.requires_grad, "no_grad: the result must not require a gradient");
            all = T.Values(x);
            Assert.All(all, v => Assert.True(float.IsFinite(v)));
            using var again = encoder.Encode(inputs);
            Close(all, T.Values(again), 1e-6f, "eval mode is deterministic (to rounding: libtorch may split reductions differently)");
            for (int i = 0; i < inputs.Count; i++)
            {
                using var one = encoder.Encode([inputs[i]]);
                Close(all.AsSpan(i * d, d).ToArray(), T.Values(one), 1e-5f, $"row {i} alone vs in the batch");
            }
            using var empty = encoder.Encode([]);
            Assert.Equal(new long[] { 0, d }, empty.shape);
        }
        using (var x = encoder.Encode(inputs))
            Assert.True(x.requires_grad, "outside no_grad the result depends on trainable parameters");
    }

    [Fact]
    public void ProfileEncoder_KeepsTheEncoderContract()
    {
        var (data, split, ctx) = Synthetic.Value;
        using var g = T.Gen(1);
        using var encoder = new ProfileEncoder(split.Train.UserFeatures, Enumerable.Range(0, data.UserCount), 8, g);
        EncoderContract(encoder, encoder, ctx.Profiles.Take(5).Append(UserProfile.Empty).ToList());
    }

    [Fact]
    public void InterestEncoder_KeepsTheEncoderContract()
    {
        using var g = T.Gen(2);
        using var encoder = new HierRec.Concepts.InterestEncoder(8, 5, g) { Items = T.Normal(30, 12, 8) };
        EncoderContract(encoder, encoder, new[] { new[] { 1, 2, 3 }, new[] { 4 }, Array.Empty<int>(), new[] { 5, 6, 7, 8, 9, 10, 11 } });
    }

    [Fact]
    public void ConceptEncoder_KeepsTheEncoderContract()
    {
        var bert = HierRec.Tests.Concepts.ConceptFixture.Fitted.Value.Recommender.Concepts!.Encoder.Bert;
        using var g = T.Gen(4);
        using var encoder = new HierRec.Concepts.ConceptEncoder(bert, 8, g);
        EncoderContract(encoder, encoder, ["mystery and thriller", "romance", "", "science fiction, space"]);
    }

    [Fact]
    public void ContextEncoder_KeepsTheEncoderContract()
    {
        using var g = T.Gen(5);
        var schema = new HierRec.Items.ContextSchema(new Dictionary<string, IReadOnlyList<string>> { ["page.kind"] = ["home", "search"] });
        using var encoder = new HierRec.Items.ContextEncoder(8, schema, g);
        EncoderContract(encoder, encoder, new[]
        {
            HierRec.Items.RequestContext.AtUnixTime(1_600_000_000, 1_599_000_000, new Dictionary<string, string> { ["page.kind"] = "home" }),
            HierRec.Items.RequestContext.None,
            HierRec.Items.RequestContext.AtUnixTime(1_600_100_000, null, new Dictionary<string, string> { ["page.kind"] = "unseen" }),
        });
    }

    public static TheoryData<string> FusionKinds => ["attention", "gated", "concat-mlp"];

    [Theory]
    [MemberData(nameof(FusionKinds))]
    public void Fusions_KeepTheFusionContract(string kind)
    {
        var module = HierRec.Tests.Fusion.FusionTests.Create(kind, 3, 6, 2);
        var fusion = (IFusion)module;
        module.eval();
        var layers = Enumerable.Range(0, 3).Select(l => T.Normal(40 + (ulong)l, 4, 6)).ToList();
        using (torch.no_grad())
        {
            using var all = fusion.Fuse(layers);
            Assert.Equal(new long[] { 4, fusion.OutputDimension }, all.Fused.shape);
            Assert.False(all.Fused.requires_grad);
            using var again = fusion.Fuse(layers);
            Close(T.Values(all.Fused), T.Values(again.Fused), 1e-6f, "eval determinism");
            var fused = T.Values(all.Fused);
            var shares = T.Values(all.Contributions);
            for (int r = 0; r < 4; r++)
            {
                using var one = fusion.Fuse(layers.Select(t => t[r].unsqueeze(0)).ToList());
                Close(fused.AsSpan(r * fusion.OutputDimension, fusion.OutputDimension).ToArray(), T.Values(one.Fused), 1e-5f, $"{kind} row {r} alone");
                Close(shares.AsSpan(r * 3, 3).ToArray(), T.Values(one.Contributions), 1e-5f, $"{kind} shares of row {r} alone");
            }
        }
        using var graded = fusion.Fuse(layers);
        Assert.True(graded.Fused.requires_grad);
        Assert.False(graded.Contributions.requires_grad, "contributions are plain values");
    }

    [Theory]
    [MemberData(nameof(HierRec.Tests.Scoring.ScorerTests.Names), MemberType = typeof(HierRec.Tests.Scoring.ScorerTests))]
    public void Scorers_KeepTheScorerContract(string name)
    {
        var scorer = HierRec.Tests.Scoring.ScorerTests.Create(name);
        using var users = T.Normal(50, 3, 5);
        using var items = T.Normal(51, 7, 5);
        using (torch.no_grad())
        {
            using var m = scorer.ScoreMatrix(users, items);
            Assert.Equal(new long[] { 3, 7 }, m.shape);
            Assert.False(m.requires_grad);
            var all = T.Values(m);
            for (int r = 0; r < 3; r++)
                Close(all.AsSpan(r * 7, 7).ToArray(), T.Values(scorer.ScoreMatrix(users[r].unsqueeze(0), items)), 1e-5f, $"{name} row {r} alone");
            Assert.Equal(new long[] { 3 }, scorer.ScorePairs(users, items[..3]).shape);
            if (scorer.Kind == ScoreKind.Probability && name == "sigmoid") Assert.All(all, v => Assert.InRange(v, 0f, 1f));
        }
        using var u = users.clone().requires_grad_(true);
        Assert.True(scorer.Logits(u, items).requires_grad);
        Assert.Throws<ArgumentException>(() => scorer.ScoreMatrix(users, torch.zeros(2, 4)));
    }

    [Fact]
    public void BehaviourAndSocialLayers_AreBatchIndependent_AndDeterministic()
    {
        using var g = T.Gen(3);
        using var behaviour = new BehaviourEncoder(8, 10, g, heads: 2);
        using var social = new SocialEncoder(8, g, heads: 2);
        behaviour.eval();
        social.eval();
        using var items = T.Normal(60, 20, 8);
        using var table = T.Normal(61, 9, 8);
        int[][] histories = [[1, 2, 3], [], [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]];
        int[][] friends = [[0, 1], [2], []];
        using var noGrad = torch.no_grad();
        using var all = behaviour.forward(new BehaviourInput(items, histories, null));
        using var allSocial = social.forward(new SocialInput(all.Vectors, table, friends, null));
        var b = T.Values(all.Vectors);
        var s = T.Values(allSocial.Vectors);
        for (int r = 0; r < 3; r++)
        {
            using var one = behaviour.forward(new BehaviourInput(items, [histories[r]], null));
            Close(b.AsSpan(r * 8, 8).ToArray(), T.Values(one.Vectors), 1e-5f, $"behaviour row {r}");
            using var oneSocial = social.forward(new SocialInput(one.Vectors, table, [friends[r]], null));
            Close(s.AsSpan(r * 8, 8).ToArray(), T.Values(oneSocial.Vectors), 1e-5f, $"social row {r}");
        }
        // An empty history or neighbourhood attends to nothing (weights 0), never NaN.
        Assert.All(T.Values(all.Weights), v => Assert.True(float.IsFinite(v)));
        Assert.Equal(10, T.Values(all.Weights).Length / 3); // histories are cut to MaxHistory = 10
        Assert.Equal(0f, T.Values(all.Weights).AsSpan(10, 10).ToArray().Sum()); // row 1: the empty history
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => behaviour.forward(new BehaviourInput(items, [[25]], null)));
        Assert.Contains("item 25", ex.Message);
    }

    [Fact]
    public void HierarchicalTrainer_KeepsTheFineTunerContract()
    {
        var (data, split, ctx) = Synthetic.Value;
        HierarchicalModel Build()
        {
            using var g = T.Gen(1);
            var profile = new ProfileEncoder(split.Train.UserFeatures, Enumerable.Range(0, data.UserCount), 8, g);
            return new HierarchicalModel(data.UserCount, data.ItemCount, profile, 0, new HierarchicalOptions { Dimension = 8, UseText = false }, 1);
        }
        var training = new HierarchicalTrainingData(split.Train, split.Validation, ctx);
        using var model = Build();
        var before = model.state_dict().ToDictionary(kv => kv.Key, kv => T.Values(kv.Value));

        // Cancelled before the first step: nothing changes.
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => new HierarchicalTrainer(new HierarchicalTrainingOptions { Epochs = 2 }).Fit(model, training, null, cancelled.Token));
        foreach (var (name, p) in model.state_dict()) Assert.Equal(before[name], T.Values(p));

        // A non-finite loss before any validation stops with an error naming epoch and step, and the model is back at its
        // starting weights (with validation it keeps the best validated ones).
        var ex = Assert.Throws<InvalidOperationException>(() => new HierarchicalTrainer(new HierarchicalTrainingOptions { Epochs = 2, LearningRate = 1e9f, ClipNorm = 0, WarmupFraction = 0 })
            .Fit(model, training with { Validation = null }));
        Assert.Matches(@"epoch \d+, step \d+", ex.Message);
        foreach (var (name, p) in model.state_dict()) Assert.Equal(before[name], T.Values(p));

        // Only trainable parameters change: freeze one and train.
        model.Profile!.Output.weight!.requires_grad = false;
        new HierarchicalTrainer(new HierarchicalTrainingOptions { Epochs = 1 }).Fit(model, training);
        Assert.Equal(before["profile.output.weight"], T.Values(model.Profile.Output.weight!));
        Assert.NotEqual(before["items.ids.weight"], T.Values(model.ItemTower.Ids!.weight!));
    }
}

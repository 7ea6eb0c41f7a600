using HierRec.Data;
using HierRec.Users;
using TorchSharp;
using static TorchSharp.torch;

namespace HierRec.Tests.Modules;

/// <summary>Double-precision gradient checks of the recommender modules (the fusions' are in FusionTests).</summary>
public sealed class GradientCheckTests
{
    [Fact]
    public void BehaviourEncoder_GradientsMatchCentralDifferences()
    {
        using var g = T.Gen(5);
        using var behaviour = new BehaviourEncoder(4, 6, g, heads: 2);
        behaviour.to(ScalarType.Float64);
        var items = T.Normal(6, 9, 4).to_type(ScalarType.Float64).requires_grad_(true);
        var profile = T.Normal(7, 3, 4).to_type(ScalarType.Float64).requires_grad_(true);
        var w = T.Normal(8, 3, 4).to_type(ScalarType.Float64);
        int[][] histories = [[1, 2, 3], [4], [5, 6, 7, 8, 0]];
        var wrt = GradCheck.Parameters(behaviour).Append(("items", items)).Append(("profile", profile)).ToList();
        GradCheck.Check(() =>
        {
            using var o = behaviour.forward(new BehaviourInput(items, histories, profile));
            return (o.Vectors * w).sum();
        }, wrt);
    }

    [Fact]
    public void SocialEncoder_GradientsMatchCentralDifferences()
    {
        using var g = T.Gen(9);
        using var social = new SocialEncoder(4, g, heads: 2);
        social.to(ScalarType.Float64);
        var own = T.Normal(10, 3, 4).to_type(ScalarType.Float64).requires_grad_(true);
        var table = T.Normal(11, 6, 4).to_type(ScalarType.Float64);
        var w = T.Normal(12, 3, 4).to_type(ScalarType.Float64);
        int[][] friends = [[0, 1, 2], [3], [4, 5]];
        int[][] hops = [[1, 1, 2], [1], [2, 2]];
        var wrt = GradCheck.Parameters(social).Append(("own", own)).ToList();
        GradCheck.Check(() =>
        {
            using var o = social.forward(new SocialInput(own, table, friends, hops));
            return (o.Vectors * w).sum();
        }, wrt);
    }

    [Fact]
    public void ProfileEncoder_GradientsMatchCentralDifferences()
    {
        var data = SyntheticDataset.Generate(new SyntheticOptions { Users = 40, Items = 30 });
        using var g = T.Gen(13);
        using var encoder = new ProfileEncoder(data.UserFeatures, Enumerable.Range(0, data.UserCount), 4, g);
        encoder.to(ScalarType.Float64);
        var profiles = Enumerable.Range(0, 4).Select(u => UserProfile.From(data.UserFeatures, u)).ToList();
        var w = T.Normal(14, 4, 4).to_type(ScalarType.Float64);
        GradCheck.Check(() => (encoder.Encode(profiles) * w).sum(), GradCheck.Parameters(encoder));
    }

    [Fact]
    public void InterestEncoder_GradientsMatchCentralDifferences()
    {
        using var g = T.Gen(15);
        using var interest = new HierRec.Concepts.InterestEncoder(4, 5, g);
        interest.to(ScalarType.Float64);
        var items = T.Normal(16, 7, 4).to_type(ScalarType.Float64);
        var w = T.Normal(17, 3, 4).to_type(ScalarType.Float64);
        int[][] histories = [[1, 2, 3], [4], [5, 6, 0, 1, 2, 3]];
        GradCheck.Check(() => (interest.Forward(items, histories) * w).sum(), GradCheck.Parameters(interest));
    }

    [Fact]
    public void ConceptEncoder_GradientsMatchCentralDifferences()
    {
        var bert = HierRec.Tests.Concepts.ConceptFixture.Fitted.Value.Recommender.Concepts!.Encoder.Bert;
        using var g = T.Gen(18);
        using var encoder = new HierRec.Concepts.ConceptEncoder(bert, 4, g);
        encoder.to(ScalarType.Float64);
        var w = T.Normal(19, 2, 4).to_type(ScalarType.Float64);
        string[] texts = ["mystery and thriller", "romance films"];
        var parameters = GradCheck.Parameters(encoder);
        Assert.DoesNotContain(parameters, p => p.Name.StartsWith("bert", StringComparison.Ordinal)); // BERT is frozen and not a sub-module
        GradCheck.Check(() => (encoder.Encode(texts) * w).sum(), parameters);
    }

    [Fact]
    public void DynamicItemEncoder_GradientsMatchCentralDifferences()
    {
        using var g = T.Gen(20);
        using var encoder = new HierRec.Items.DynamicItemEncoder(4, 3, g, heads: 2, itemFeatures: 2);
        using var context = new HierRec.Items.ContextEncoder(4, HierRec.Items.ContextSchema.Empty, g);
        using (torch.no_grad()) encoder.Gate.bias!.zero_(); // an open gate, so the attention path carries gradient
        encoder.to(ScalarType.Float64);
        context.to(ScalarType.Float64);
        var items = T.Normal(21, 8, 4).to_type(ScalarType.Float64);
        var candidates = T.Normal(22, 2, 3, 4).to_type(ScalarType.Float64).requires_grad_(true);
        var features = T.Normal(23, 2, 3, 2).to_type(ScalarType.Float64);
        var users = T.Normal(24, 2, 4).to_type(ScalarType.Float64);
        int[][] histories = [[1, 2, 3, 4], []];
        var contexts = new[] { HierRec.Items.RequestContext.AtUnixTime(1_600_000_000, 1_599_990_000), HierRec.Items.RequestContext.AtUnixTime(1_600_050_000) };
        var wrt = GradCheck.Parameters(encoder).Concat(GradCheck.Parameters(context).Select(p => ("context." + p.Name, p.Tensor))).Append(("candidates", candidates)).ToList();
        GradCheck.Check(() => HierRec.Items.DynamicItemEncoder.Score(users, encoder.Forward(candidates, items, histories, context.Encode(contexts), features).Vectors).sum(), wrt);
    }
}

using HierRec.Baselines;
using HierRec.Data;
using HierRec.Tests.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace HierRec.Tests.Baselines;

/// <summary>LightGCN's propagation Â x and its gradient against a dense Â built from the definition.</summary>
public sealed class NormalizedGraphTests
{
    [Fact]
    public void Product_AndItsGradient_MatchTheDenseNormalisedAdjacency()
    {
        var users = new IdMap();
        var items = new IdMap();
        for (int i = 0; i < 5; i++) users.GetOrAdd("u" + i);
        for (int i = 0; i < 4; i++) items.GetOrAdd("i" + i);
        (int U, int I)[] edges = [(0, 0), (0, 1), (1, 1), (2, 2), (2, 3), (3, 0), (3, 3), (4, 1)];
        var data = new Dataset("g", users, items, edges.Select((e, t) => new Interaction(e.U, e.I, 1, t)).ToList());
        var x = new InteractionMatrix(data);
        var graph = NormalizedGraph.Build(x);
        int n = 9;
        var dense = new float[n * n];
        var deg = new double[n];
        foreach (var (u, i) in edges) { deg[u]++; deg[5 + i]++; }
        foreach (var (u, i) in edges)
        {
            float w = (float)(1 / Math.Sqrt(deg[u] * deg[5 + i]));
            dense[u * n + 5 + i] = w;
            dense[(5 + i) * n + u] = w;
        }
        using var a = torch.tensor(dense, [n, n]);
        using var e = T.Normal(3, n, 6).requires_grad_(true);
        using var w2 = T.Normal(4, n, 6);
        var y = graph.Propagate(graph.Propagate(e));
        var expected = a.mm(a.mm(e));
        Assert.True(T.Values(y).Zip(T.Values(expected)).All(p => MathF.Abs(p.First - p.Second) < 1e-5f));
        var g = torch.autograd.grad([(y * w2).sum()], [e])[0];
        var gExpected = torch.autograd.grad([(expected * w2).sum()], [e])[0];
        Assert.True(T.Values(g).Zip(T.Values(gExpected)).All(p => MathF.Abs(p.First - p.Second) < 1e-5f));
    }
}

using HierRec.Tensors.Layers;
using HierRec.Tensors.Serialization;

namespace HierRec.Tensors.Tests.Layers;

/// <summary>
/// A transformer encoder layer against torch.nn.TransformerEncoderLayer (eval mode, GELU, post-LN, eps 1e-12) on a
/// padded batch: output, input gradient and every parameter gradient to 1e-4 absolute. Fixture from
/// Golden/make_golden.py (PyTorch 1.13).
/// </summary>
public class TransformerGoldenTests
{
    internal static SafeTensorsContent LoadFixture()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Golden", "transformer_layer.safetensors");
        var content = SafeTensors.Load(path);
        Assert.True(content.Metadata.TryGetValue("format", out var format) && format == "hierrec-golden", "fixture has no hierrec-golden format header");
        Assert.True(content.Metadata.TryGetValue("version", out var version) && version == "1", $"fixture version {version} is not 1");
        return content;
    }

    [Fact]
    public void EncoderLayer_MatchesPyTorch_ForwardAndAllGradients()
    {
        var g = LoadFixture().Tensors;
        var layer = new TransformerEncoderLayer(32, 4, 64, new Rng(1), dropout: 0.1f, layerNormEps: 1e-12f);
        var parameters = g.Where(kv => !kv.Key.StartsWith("grad:") && !kv.Key.StartsWith("adamw.") && kv.Key.Contains('.') && !kv.Key.EndsWith(".grad"))
            .ToDictionary(kv => kv.Key, kv => kv.Value);
        layer.LoadParameters(parameters);
        layer.Eval();

        var x = g["input"].Clone();
        x.RequiresGrad = true;
        var y = layer.Forward(x, g["key_mask"]);
        TestData.AssertAbsClose(g["output"].Data, y.Data, 1e-4, "output");

        y.Backward(g["upstream"]);
        TestData.AssertAbsClose(g["input.grad"].Data, x.Grad!.Data, 1e-4, "input.grad");
        int checkedCount = 0;
        foreach (var (name, p) in layer.NamedParameters())
        {
            Assert.True(g.ContainsKey("grad:" + name), $"fixture lacks grad:{name}");
            TestData.AssertAbsClose(g["grad:" + name].Data, p.Grad!.Data, 1e-4, "grad:" + name);
            checkedCount++;
        }
        Assert.Equal(16, checkedCount);
    }

    [Fact]
    public void EncoderLayer_IsDeterministicForASeed()
    {
        Tensor Run()
        {
            var layer = new TransformerEncoderLayer(16, 2, 32, new Rng(5), dropout: 0.2f);
            var x = Tensor.RandomNormal(new Rng(6), 1f, 2, 5, 16);
            return layer.Forward(x);
        }
        Assert.Equal(Run().ToArray(), Run().ToArray());
    }

    [Fact]
    public void EncoderLayer_ReturnsAttentionProbabilitiesThatSumToOne()
    {
        var layer = new TransformerEncoderLayer(16, 2, 32, new Rng(5), dropout: 0f);
        var x = Tensor.RandomNormal(new Rng(6), 1f, 2, 5, 16);
        var mask = new Tensor([1, 1, 1, 1, 1, 1, 1, 0, 0, 0], 2, 5);
        layer.Forward(x, mask, out var probs);
        Assert.NotNull(probs);
        Assert.Equal(new[] { 2, 2, 5, 5 }, probs!.Shape.ToArray());
        for (int r = 0; r < 2 * 2 * 5; r++)
        {
            var row = probs.Data.Slice(r * 5, 5);
            Assert.InRange(System.Numerics.Tensors.TensorPrimitives.Sum(row), 0.9999f, 1.0001f);
            if (r >= 10) Assert.Equal(0f, row[3] + row[4]); // batch 1 masks keys 2..4
        }
    }
}

using HierRec.Tensors.Layers;

namespace HierRec.Tensors.Tests.Layers;

public class ModuleTests
{
    [Fact]
    public void NamedParameters_FollowRegistrationOrder_WithDottedNames()
    {
        var layer = new TransformerEncoderLayer(8, 2, 16, new Rng(1));
        var names = layer.NamedParameters().Select(p => p.Name).ToArray();
        Assert.Equal(
        [
            "attention.query.weight", "attention.query.bias", "attention.key.weight", "attention.key.bias",
            "attention.value.weight", "attention.value.bias", "attention.output.weight", "attention.output.bias",
            "norm1.weight", "norm1.bias", "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias",
            "norm2.weight", "norm2.bias",
        ], names);
    }

    [Fact]
    public void LoadParameters_ListsMissingUnexpectedAndMismatchedNames()
    {
        var lin = new Linear(3, 2, new Rng(1));
        var ex = Assert.Throws<InvalidDataException>(() => lin.LoadParameters(new Dictionary<string, Tensor>
        {
            ["weight"] = new Tensor(3, 2),
            ["extra"] = new Tensor(1),
        }));
        Assert.Contains("weight: checkpoint (3, 2) vs model (2, 3)", ex.Message);
        Assert.Contains("missing tensors: bias", ex.Message);
        Assert.Contains("unexpected tensors: extra", ex.Message);

        var missing = lin.LoadParameters(new Dictionary<string, Tensor> { ["weight"] = Tensor.Full(2f, 2, 3) }, allowMissing: true);
        Assert.Equal(["bias"], missing);
        Assert.All(lin.Weight.ToArray(), v => Assert.Equal(2f, v));
    }

    [Fact]
    public void Freeze_StopsGradients_AndEvalDisablesDropout()
    {
        var layer = new TransformerEncoderLayer(8, 2, 16, new Rng(1), dropout: 0.5f);
        layer.Attention.Freeze();
        var x = Tensor.RandomNormal(new Rng(2), 1f, 1, 3, 8);
        Ops.Sum(layer.Forward(x)).Backward();
        Assert.All(layer.Attention.Parameters(), p => Assert.Null(p.Grad));
        Assert.NotNull(layer.Linear1.Weight.Grad);

        layer.Eval();
        Assert.Equal(layer.Forward(x).ToArray(), layer.Forward(x).ToArray());
        layer.Train();
        Assert.NotEqual(layer.Forward(x).ToArray(), layer.Forward(x).ToArray());
    }

    [Fact]
    public void AttentionDropout_ActsOnlyInTrainingMode()
    {
        var layer = new TransformerEncoderLayer(8, 2, 16, new Rng(1), dropout: 0f, attentionDropout: 0.5f);
        var x = Tensor.RandomNormal(new Rng(2), 1f, 1, 6, 8);
        Assert.NotEqual(layer.Forward(x).ToArray(), layer.Forward(x).ToArray());
        layer.Eval();
        Assert.Equal(layer.Forward(x).ToArray(), layer.Forward(x).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => new MultiHeadAttention(8, 2, new Rng(1), attentionDropout: 1f));
    }
}

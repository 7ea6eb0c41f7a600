using HierRec.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace HierRec.Tests.Modules;

/// <summary>A seed fixes a model's initial weights, whatever torch's global generator went through before.</summary>
public sealed class SeededInitTests
{
    private static Dictionary<string, float[]> Weights(nn.Module m) => m.state_dict().ToDictionary(kv => kv.Key, kv => T.Values(kv.Value));

    [Fact]
    public void HierarchicalModelAndBert_AreReproducibleFromTheirSeed()
    {
        var options = new HierarchicalOptions { Dimension = 8, UseText = true, UseProfile = false };
        var config = new BertConfig { VocabSize = 50, HiddenSize = 8, NumHiddenLayers = 1, NumAttentionHeads = 2, IntermediateSize = 16, MaxPositionEmbeddings = 16 };
        var runs = new List<(Dictionary<string, float[]> Model, Dictionary<string, float[]> Bert)>();
        foreach (long global in new long[] { 3, 77 })
        {
            torch.manual_seed(global);
            using var model = new HierarchicalModel(10, 12, null, 8, options, seed: 5);
            using var bert = new BertModel(config, seed: 5);
            runs.Add((Weights(model), Weights(bert)));
        }
        foreach (var (name, w) in runs[0].Model) Assert.True(w.SequenceEqual(runs[1].Model[name]), $"model tensor {name} depends on the global generator");
        foreach (var (name, w) in runs[0].Bert) Assert.True(w.SequenceEqual(runs[1].Bert[name]), $"BERT tensor {name} depends on the global generator");
        using var other = new HierarchicalModel(10, 12, null, 8, options, seed: 6);
        Assert.NotEqual(runs[0].Model["items.ids.weight"], T.Values(other.ItemTower.Ids!.weight!));
    }
}

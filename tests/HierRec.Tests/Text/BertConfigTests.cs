using HierRec.Text;

namespace HierRec.Tests.Text;

public sealed class BertConfigTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "hierrec-cfg-" + Guid.NewGuid().ToString("N"));

    public BertConfigTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, true);

    [RealModelsTheory]
    [InlineData("bert-base-chinese")]
    public void Load_ReadsTheRealConfig_AndRoundTripsUnknownFields(string model)
    {
        var c = BertConfig.Load(Path.Combine(SharedModels.Folder!, model, "config.json"));
        Assert.Equal((21128, 768, 12, 12, 3072, 512, 2), (c.VocabSize, c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize, c.MaxPositionEmbeddings, c.TypeVocabSize));
        Assert.Equal(1e-12, c.LayerNormEps);
        string path = Path.Combine(_dir, "config.json");
        c.Save(path);
        var again = BertConfig.Load(path);
        Assert.Equal(c.VocabSize, again.VocabSize);
        Assert.True(again.Extra!.ContainsKey("pooler_type")); // a field HierRec does not interpret survives the round trip
    }

    [Fact]
    public void Load_NamesTheFileAndTheBadField()
    {
        string path = Path.Combine(_dir, "config.json");
        File.WriteAllText(path, "{\"hidden_size\": 100, \"num_attention_heads\": 3}");
        var ex = Assert.Throws<InvalidDataException>(() => BertConfig.Load(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("not divisible", ex.Message);
        File.WriteAllText(path, "{\"hidden_act\": \"relu\"}");
        Assert.Contains("hidden_act", Assert.Throws<InvalidDataException>(() => BertConfig.Load(path)).Message);
        File.WriteAllText(path, "{not json");
        Assert.Contains("not a valid config.json", Assert.Throws<InvalidDataException>(() => BertConfig.Load(path)).Message);
    }
}

using System.Text.Json;
using System.Text.Json.Nodes;
using HierRec.Text;

namespace HierRec.Tests.Text;

/// <summary>Every tokenizer file a Hugging Face folder may carry, and the errors for the ones HierRec cannot honour.</summary>
public sealed class TokenizerFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hierrec-tok-").FullName;
    private static readonly string[] Vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "<extra>", "cafe", "café", "CAFÉ", "the", "##s", "clue", ",", "."];

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Folder(string name, string? config = null, string? tokenizerJson = null, bool vocab = true)
    {
        string folder = Path.Combine(_dir, name);
        Directory.CreateDirectory(folder);
        if (vocab) File.WriteAllLines(Path.Combine(folder, "vocab.txt"), Vocab);
        if (config is not null) File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), config);
        if (tokenizerJson is not null) File.WriteAllText(Path.Combine(folder, "tokenizer.json"), tokenizerJson);
        return folder;
    }

    private static JsonObject TokenizerJson(string normalizer = """{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,"strip_accents":null,"lowercase":true}""")
    {
        var vocab = new JsonObject();
        for (int i = 0; i < Vocab.Length; i++) vocab[Vocab[i]] = i;
        return new JsonObject
        {
            ["version"] = "1.0", ["truncation"] = null, ["padding"] = null,
            ["added_tokens"] = new JsonArray(new JsonObject { ["id"] = 5, ["content"] = "<extra>", ["special"] = true, ["normalized"] = false }),
            ["normalizer"] = JsonNode.Parse(normalizer),
            ["pre_tokenizer"] = new JsonObject { ["type"] = "BertPreTokenizer" },
            ["post_processor"] = JsonNode.Parse("""{"type":"BertProcessing","sep":["[SEP]",3],"cls":["[CLS]",2]}"""),
            ["decoder"] = new JsonObject { ["type"] = "WordPiece", ["prefix"] = "##", ["cleanup"] = true },
            ["model"] = new JsonObject { ["type"] = "WordPiece", ["unk_token"] = "[UNK]", ["continuing_subword_prefix"] = "##", ["max_input_chars_per_word"] = 100, ["vocab"] = vocab },
        };
    }

    [Fact]
    public void Config_DoLowerCase_StripAccents_SpecialTokens_AndModelMaxLength_AreRead()
    {
        var cased = BertTokenizer.FromFolder(Folder("cased", """{"do_lower_case": false, "model_max_length": 512}"""));
        Assert.Equal([8], cased.EncodeToIds("CAFÉ"));
        Assert.Equal(512, cased.ModelMaxLength);
        var keepAccents = BertTokenizer.FromFolder(Folder("accents", """{"do_lower_case": true, "strip_accents": false, "model_max_length": 1e30}"""));
        Assert.Equal([7], keepAccents.EncodeToIds("CAFÉ"));
        Assert.Null(keepAccents.ModelMaxLength);
        var stripped = BertTokenizer.FromFolder(Folder("default"));
        Assert.Equal([6], stripped.EncodeToIds("CAFÉ"));
        var extra = BertTokenizer.FromFolder(Folder("extra", """{"additional_special_tokens": ["<extra>"], "cls_token": {"content": "[CLS]", "__type": "AddedToken"}}"""));
        Assert.Equal([9, 5, 11], extra.EncodeToIds("the<extra>clue"));
        Assert.Contains(5, extra.SpecialTokenIds);
    }

    [Fact]
    public void TokenizerJson_DefinesTheTokenizer_WithAddedTokens_AndTakesPrecedenceOverVocabTxt()
    {
        var json = TokenizerJson();
        var tok = BertTokenizer.FromFolder(Folder("json", """{"model_max_length": 128}""", json.ToJsonString(), vocab: false));
        Assert.Equal([9, 5, 11, 10], tok.EncodeToIds("The<extra>clues"));
        Assert.Equal([6, 12, 9], tok.EncodeToIds("CAFÉ, the"));
        Assert.Equal(128, tok.ModelMaxLength);
        Assert.Equal("[CLS] cafe, the [SEP]", tok.Decode(tok.Encode("Café , the").Ids));
    }

    [Theory]
    [InlineData("normalizer", """{"type":"Sequence","normalizers":[]}""", "normalizer.type 'Sequence'")]
    [InlineData("pre_tokenizer", """{"type":"Whitespace"}""", "pre_tokenizer.type 'Whitespace'")]
    [InlineData("model", """{"type":"BPE","vocab":{}}""", "model.type 'BPE'")]
    [InlineData("post_processor", """{"type":"RobertaProcessing"}""", "post_processor.type 'RobertaProcessing'")]
    [InlineData("decoder", """{"type":"ByteLevel"}""", "decoder.type 'ByteLevel'")]
    [InlineData("padding", """{"strategy":"BatchLongest"}""", "padding")]
    public void TokenizerJson_NamesThePartItDoesNotSupport(string part, string value, string expected)
    {
        var json = TokenizerJson();
        json[part] = JsonNode.Parse(value);
        var folder = Folder("bad-" + part, tokenizerJson: json.ToJsonString(), vocab: false);
        var ex = Assert.Throws<InvalidDataException>(() => BertTokenizer.FromFolder(folder));
        Assert.Contains(expected, ex.Message);
        Assert.Contains("tokenizer.json", ex.Message);
    }

    [Fact]
    public void AFolderWithoutVocabulary_IsAnErrorNamingTheFolder()
    {
        var folder = Folder("empty", """{"do_lower_case": true}""", vocab: false);
        var ex = Assert.Throws<FileNotFoundException>(() => BertTokenizer.FromFolder(folder));
        Assert.Contains(folder, ex.Message);
        Assert.Contains("vocab.txt", ex.Message);
        Assert.Throws<DirectoryNotFoundException>(() => BertTokenizer.FromFolder(Path.Combine(_dir, "missing")));
    }

    [Fact]
    public void MalformedFiles_AreNamedWithTheField()
    {
        Assert.Contains("do_lower_case", Assert.Throws<InvalidDataException>(() => BertTokenizer.FromFolder(Folder("b1", """{"do_lower_case": "yes"}"""))).Message);
        Assert.Contains("not valid JSON", Assert.Throws<InvalidDataException>(() => BertTokenizer.FromFolder(Folder("b2", "{oops"))).Message);
        Assert.Contains("[MASK]", Assert.Throws<InvalidDataException>(() => BertTokenizer.FromFolder(Folder("b3", """{"mask_token": "<mask>"}"""))).Message.Replace("<mask>", "[MASK]"));
        var json = TokenizerJson();
        json["model"]!["vocab"]!["clue"] = 3;
        Assert.Contains("id 3", Assert.Throws<InvalidDataException>(() => BertTokenizer.FromFolder(Folder("b4", tokenizerJson: json.ToJsonString(), vocab: false))).Message);
    }

    [Fact]
    public void Save_ThenFromFolder_GivesTheSameTokenizer()
    {
        var original = BertTokenizer.Create(Vocab, new BertTokenizerOptions { LowerCase = true, StripAccents = false, ModelMaxLength = 64, SpecialTokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "<extra>"] });
        string folder = Path.Combine(_dir, "saved");
        original.Save(folder);
        var loaded = BertTokenizer.FromFolder(folder);
        Assert.Equal(64, loaded.ModelMaxLength);
        Assert.False(loaded.Options.StripAccents);
        foreach (var text in new[] { "CAFÉ the<extra>clues", "café, the." }) Assert.Equal(original.EncodeToIds(text), loaded.EncodeToIds(text));
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "tokenizer_config.json")));
        Assert.True(config.RootElement.GetProperty("do_lower_case").GetBoolean());
        Assert.Equal("<extra>", config.RootElement.GetProperty("additional_special_tokens")[0].GetString());
    }
}

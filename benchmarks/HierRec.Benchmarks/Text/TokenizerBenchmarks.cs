using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using HierRec.Text;
using MLBertTokenizer = Microsoft.ML.Tokenizers.BertTokenizer;

namespace HierRec.Benchmarks.Text;

/// <summary>
/// Tokenizer throughput on one thread, English and Chinese: 2,000 generated sentences per call, ids with [CLS]/[SEP].
/// Rows: HierRec's tokenizer (ids, and full model inputs), the same tokenizer before the span-based rewrite (39b90a0),
/// and Microsoft.ML.Tokenizers' own BertTokenizer on the same vocabulary. The M tokens/s column counts the ids
/// HierRec produces. Needs ../shared/models (run from the repository root).
/// </summary>
[Config(typeof(TokensConfig))]
[InProcess]
[WarmupCount(2)]
[IterationCount(10)]
[MemoryDiagnoser]
public class TokenizerBenchmarks
{
    private static long s_tokensPerCall;
    private BertTokenizer _tokenizer = null!;
    private TokenizerBeforeRewrite _before = null!;
    private MLBertTokenizer _ml = null!;
    private string[] _texts = [];

    [Params("bert-base-uncased", "bert-base-chinese")]
    public string Vocabulary { get; set; } = "bert-base-uncased";

    internal static string ModelsFolder()
    {
        string models = Path.GetFullPath(Path.Combine("..", "shared", "models"));
        if (!Directory.Exists(models)) models = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "..", "shared", "models"));
        return models;
    }

    [GlobalSetup]
    public void Setup()
    {
        string vocab = Path.Combine(ModelsFolder(), Vocabulary, "vocab.txt");
        bool lower = Vocabulary.Contains("uncased");
        _tokenizer = BertTokenizer.Create(vocab, new BertTokenizerOptions { LowerCase = lower });
        _before = TokenizerBeforeRewrite.Create(vocab, new BertTokenizerOptions { LowerCase = lower });
        using (var s = File.OpenRead(vocab))
            _ml = MLBertTokenizer.Create(s, new Microsoft.ML.Tokenizers.BertOptions { LowerCaseBeforeTokenization = lower, RemoveNonSpacingMarks = lower });
        var rng = new HierRec.Rng(1);
        string[] en = ["the", "detective", "found", "a", "clue", "in", "haunted", "manor", "while", "astronauts", "orbit", "planet", "unbelievably", "remarkable", "soundtrack", "café", "naïve", "state-of-the-art", "film's", "1995"];
        string[] zh = ["我", "喜欢", "悬疑", "电影", "讨厌", "爱情", "科幻", "导演", "演员", "音乐"];
        _texts = Enumerable.Range(0, 2000).Select(i => Vocabulary.Contains("chinese")
            ? string.Concat(Enumerable.Range(0, 12).Select(_ => zh[rng.NextInt(zh.Length)])) + "。"
            : string.Join(' ', Enumerable.Range(0, 16).Select(_ => en[rng.NextInt(en.Length)])) + ".").ToArray();
        s_tokensPerCall = _texts.Sum(t => (long)_tokenizer.EncodeToIds(t, addSpecialTokens: true).Count);
        for (int i = 0; i < _texts.Length; i++)
            if (!_before.Encode(_texts[i]).Ids.SequenceEqual(_tokenizer.EncodeToIds(_texts[i], addSpecialTokens: true)))
                throw new InvalidOperationException($"The rewritten tokenizer disagrees with the old one on '{_texts[i]}'.");
    }

    [Benchmark(Baseline = true, Description = "HierRec before the rewrite (39b90a0): Encode")]
    public int Before()
    {
        int n = 0;
        foreach (var t in _texts) n += _before.Encode(t).Ids.Length;
        return n;
    }

    [Benchmark(Description = "HierRec: EncodeToIds(addSpecialTokens)")]
    public int Ids()
    {
        int n = 0;
        foreach (var t in _texts) n += _tokenizer.EncodeToIds(t, addSpecialTokens: true).Count;
        return n;
    }

    [Benchmark(Description = "HierRec: Encode (ids, types, mask)")]
    public int ModelInputs()
    {
        int n = 0;
        foreach (var t in _texts) n += _tokenizer.Encode(t).Ids.Length;
        return n;
    }

    [Benchmark(Description = "Microsoft.ML.Tokenizers BertTokenizer: EncodeToIds")]
    public int MicrosoftML()
    {
        int n = 0;
        foreach (var t in _texts) n += _ml.EncodeToIds(t).Count;
        return n;
    }

    private sealed class TokensConfig : ManualConfig
    {
        public TokensConfig() => AddColumn(new MetricColumn("MTokps", "M tokens/s", "Token ids produced per call / mean time, in millions per second", _ => s_tokensPerCall * 1e3)); // tokens per ns × 1e3 = millions of tokens per second
    }
}

/// <summary>
/// Splitting out special tokens is linear: text made only of "[SEP]", from 12.5 K to 1 M characters. The rewrite
/// against the tokenizer before it (39b90a0), whose special-token split rescanned the rest of the text per token; the
/// old one runs only up to 100 K characters, where it already takes seconds.
/// </summary>
[InProcess]
[WarmupCount(1)]
[IterationCount(3)]
[InvocationCount(1)]
[MemoryDiagnoser]
public class SpecialTokenScalingBenchmarks
{
    private BertTokenizer _tokenizer = null!;
    private TokenizerBeforeRewrite _before = null!;
    private string _text = "";

    [Params(12_500, 25_000, 50_000, 100_000, 200_000, 1_000_000)]
    public int Characters { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        string vocab = Path.Combine(TokenizerBenchmarks.ModelsFolder(), "bert-base-uncased", "vocab.txt");
        _tokenizer = BertTokenizer.Create(vocab);
        _before = TokenizerBeforeRewrite.Create(vocab);
        _text = string.Concat(Enumerable.Repeat("[SEP]", Characters / 5));
    }

    [Benchmark(Description = "HierRec: EncodeToIds")]
    public int Rewritten() => _tokenizer.EncodeToIds(_text).Count;

    [Benchmark(Description = "before the rewrite (39b90a0)")]
    public int Before() => Characters > 100_000 ? -1 : _before.TokenizeToIds(_text).Count;
}

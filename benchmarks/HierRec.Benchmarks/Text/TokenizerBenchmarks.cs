using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using HierRec.Text;

namespace HierRec.Benchmarks.Text;

/// <summary>
/// Tokenizer throughput on English and Chinese text: 2,000 generated sentences per call, with [CLS]/[SEP]. The
/// tokens/s column counts the ids produced. Needs ../shared/models (run from the repository root).
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
    private string[] _texts = [];

    [Params("bert-base-uncased", "bert-base-chinese")]
    public string Vocabulary { get; set; } = "bert-base-uncased";

    [GlobalSetup]
    public void Setup()
    {
        string models = Path.GetFullPath(Path.Combine("..", "shared", "models"));
        if (!Directory.Exists(models)) models = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "..", "shared", "models"));
        _tokenizer = BertTokenizer.Create(Path.Combine(models, Vocabulary, "vocab.txt"), new BertTokenizerOptions { LowerCase = Vocabulary.Contains("uncased") });
        var rng = new HierRec.Rng(1);
        string[] en = ["the", "detective", "found", "a", "clue", "in", "haunted", "manor", "while", "astronauts", "orbit", "planet", "unbelievably", "remarkable", "soundtrack", "café", "naïve", "state-of-the-art", "film's", "1995"];
        string[] zh = ["我", "喜欢", "悬疑", "电影", "讨厌", "爱情", "科幻", "导演", "演员", "音乐"];
        _texts = Enumerable.Range(0, 2000).Select(i => Vocabulary.Contains("chinese")
            ? string.Concat(Enumerable.Range(0, 12).Select(_ => zh[rng.NextInt(zh.Length)])) + "。"
            : string.Join(' ', Enumerable.Range(0, 16).Select(_ => en[rng.NextInt(en.Length)])) + ".").ToArray();
        s_tokensPerCall = _texts.Sum(t => (long)_tokenizer.Encode(t).Ids.Length);
    }

    [Benchmark(Description = "Encode 2,000 sentences")]
    public int Encode()
    {
        int n = 0;
        foreach (var t in _texts) n += _tokenizer.Encode(t).Ids.Length;
        return n;
    }

    private sealed class TokensConfig : ManualConfig
    {
        public TokensConfig() => AddColumn(new MetricColumn("MTokps", "M tokens/s", "Token ids produced per call / mean time, in millions per second", _ => s_tokensPerCall * 1e3)); // tokens per ns × 1e3 = millions of tokens per second
    }
}

using BenchmarkDotNet.Attributes;
using HierRec.Items;
using TorchSharp;
using static TorchSharp.torch;

namespace HierRec.Benchmarks.Items;

/// <summary>
/// The second serving stage: re-ranking one request's candidates by their dynamic representations
/// S_i = E_i + g ⊙ Attn(E_i, [history; context]) and r = ⟨x_u, S_i⟩, on one thread. The baseline is the first stage's
/// own scoring of the same candidates, ⟨x_u, E_i⟩. Candidate counts include one that is not a multiple of the vector width.
/// libtorch runs on one thread (torch.set_num_threads(1)) and the process is pinned to one core.
/// </summary>
[InProcess]
[WarmupCount(2)]
[IterationCount(10)]
[MemoryDiagnoser]
public class DynamicRerankBenchmarks
{
    private const int Items = 1682, D = 64;
    private DynamicItemEncoder _encoder = null!;
    private ContextEncoder _context = null!;
    private Tensor _items = null!, _candidates = null!, _user = null!;
    private int[] _history = [];

    [Params(57, 200)]
    public int Candidates { get; set; }

    [Params(10, 50)]
    public int History { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(1);
        var rng = new HierRec.Rng(1);
        using var generator = new Generator(1);
        _encoder = new DynamicItemEncoder(D, 50, generator);
        using (torch.no_grad()) _encoder.Gate.bias!.zero_(); // an open gate, as after training
        _context = new ContextEncoder(D, ContextSchema.Empty, generator);
        _encoder.eval();
        _context.eval();
        _items = (torch.randn([Items, D], generator: generator) * 0.3f).DetachFromDisposeScope();
        _user = (torch.randn([1, D], generator: generator) * 0.3f).DetachFromDisposeScope();
        var ids = Enumerable.Range(0, Candidates).Select(_ => (long)rng.NextInt(Items)).ToArray();
        _candidates = _items.index_select(0, torch.tensor(ids)).unsqueeze(0).DetachFromDisposeScope();
        _history = Enumerable.Range(0, History).Select(_ => rng.NextInt(Items)).ToArray();
        // One core: the attention kernel would otherwise spread its heads over both.
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsWindows()) return;
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        _affinity = process.ProcessorAffinity;
        process.ProcessorAffinity = 1;
    }

    private nint _affinity;

    [GlobalCleanup]
    public void Cleanup()
    {
        if (_affinity == 0 || (!OperatingSystem.IsLinux() && !OperatingSystem.IsWindows())) return;
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        process.ProcessorAffinity = _affinity;
    }

    [Benchmark(Baseline = true)]
    public float[] StaticScores()
    {
        using var _ = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        return DynamicItemEncoder.Score(_user, _candidates).data<float>().ToArray();
    }

    [Benchmark]
    public float[] DynamicRerank()
    {
        using var _ = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var ctx = _context.Encode([RequestContext.AtUnixTime(1_700_000_000, 1_699_990_000)]);
        return DynamicItemEncoder.Score(_user, _encoder.Forward(_candidates, _items, [_history], ctx).Vectors).data<float>().ToArray();
    }
}

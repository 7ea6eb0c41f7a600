using BenchmarkDotNet.Attributes;

namespace HierRec.Benchmarks.Text;

/// <summary>
/// BERT-mini inference and masked-LM training step on a 32 × 64 batch on TorchSharp (see <see cref="BertWorkload"/>
/// and <see cref="TorchBertWorkload"/>); the PyTorch peer is <c>benchmarks/compare_bert_torch.py</c>. Managed
/// allocations per operation come from the memory diagnoser (libtorch's own memory is not counted there).
/// </summary>
[InProcess]
[WarmupCount(3)]
[IterationCount(10)]
[MemoryDiagnoser]
public class BertBenchmarks
{
    private TorchBertWorkload _workload = null!;

    [GlobalSetup]
    public void Setup() => _workload = new TorchBertWorkload();

    [GlobalCleanup]
    public void Cleanup() => _workload.Dispose();

    [Benchmark(Description = "BERT-mini inference, 32x64")]
    public float Inference() => _workload.Infer();

    [Benchmark(Description = "BERT-mini MLM train step, 32x64")]
    public float TrainStep() => _workload.TrainStep();
}

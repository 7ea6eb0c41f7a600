using BenchmarkDotNet.Attributes;

namespace HierRec.Benchmarks.Text;

/// <summary>
/// BERT-mini inference and masked-LM training step on a 32 × 64 batch (see <see cref="BertWorkload"/>); the PyTorch
/// peer is <c>benchmarks/compare_bert_torch.py</c>. Allocated bytes per operation come from the memory diagnoser.
/// </summary>
[InProcess]
[WarmupCount(3)]
[IterationCount(10)]
[MemoryDiagnoser]
public class BertBenchmarks
{
    private BertWorkload _workload = null!;

    [GlobalSetup]
    public void Setup() => _workload = new BertWorkload();

    [Benchmark(Description = "BERT-mini inference, 32x64")]
    public float Inference() => _workload.Infer();

    [Benchmark(Description = "BERT-mini MLM train step, 32x64")]
    public float TrainStep() => _workload.TrainStep();
}

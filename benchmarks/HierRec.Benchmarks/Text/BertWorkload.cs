using HierRec.Tensors;
using HierRec.Tensors.Autograd;
using HierRec.Tensors.Kernels;
using HierRec.Tensors.Optimizers;
using HierRec.Text;
using HierRec.Text.Legacy;
using BertForMaskedLM = HierRec.Text.Legacy.BertForMaskedLM;

namespace HierRec.Benchmarks.Text;

/// <summary>
/// The BERT speed workload, the same work as <c>benchmarks/compare_bert_torch.py</c>: BERT-mini (L=4, H=256, A=4,
/// I=1,024, vocab 30,522), a batch of 32 × 64 tokens with rows padded after 48..64 tokens; inference is the encoder
/// forward in a no-grad scope; a train step is the masked-LM forward (dropout 0.1, logits at the ~15% masked
/// positions, tied decoder), cross-entropy, backward, clipping to norm 1 and AdamW over all parameters.
/// </summary>
public sealed class BertWorkload
{
    public const int Batch = 32, Length = 64;

    /// <summary>The batch, its masked copy and the labels, drawn from fixed seeds (shared with <see cref="TorchBertWorkload"/>).</summary>
    public sealed class Inputs
    {
        public Inputs()
        {
            var rng = new Rng(1);
            var ids = new int[Batch * Length];
            var mask = new int[Batch * Length];
            for (int b = 0; b < Batch; b++)
            {
                int len = 48 + rng.NextInt(Length - 48 + 1);
                for (int t = 0; t < len; t++) { ids[b * Length + t] = 1000 + rng.NextInt(30522 - 1000); mask[b * Length + t] = 1; }
            }
            Input = new BertBatch(ids, null, mask, Batch, Length);
            Labels = new int[ids.Length];
            Labels.AsSpan().Fill(-100);
            var masked = (int[])ids.Clone();
            for (int i = 0; i < ids.Length; i++)
            {
                if (mask[i] == 1 && rng.NextFloat() < 0.15f) { Labels[i] = ids[i]; masked[i] = 103; }
            }
            Masked = new BertBatch(masked, null, mask, Batch, Length);
        }

        public BertBatch Input { get; }
        public BertBatch Masked { get; }
        public int[] Labels { get; }
    }

    public BertWorkload()
    {
        var config = new BertConfig { VocabSize = 30522, HiddenSize = 256, NumHiddenLayers = 4, NumAttentionHeads = 4, IntermediateSize = 1024 };
        Model = new BertForMaskedLM(config, new Rng(0));
        var inputs = new Inputs();
        Input = inputs.Input;
        Masked = inputs.Masked;
        Labels = inputs.Labels;
        Optimizer = AdamW.Create(Model.NamedParameters(), 1e-4f, 0.01f);
    }

    public BertForMaskedLM Model { get; }
    public BertBatch Input { get; }
    public BertBatch Masked { get; }
    public int[] Labels { get; }
    public AdamW Optimizer { get; }

    public float Infer()
    {
        Model.Eval();
        using var _ = GradMode.NoGrad();
        return Model.Bert.Forward(Input).LastHiddenState.Data[0];
    }

    public float TrainStep()
    {
        Model.Train();
        Optimizer.ZeroGrad();
        var loss = Model.Loss(Masked, Labels);
        loss.Backward();
        HierRec.Tensors.Optimizers.Optimizer.ClipGradNorm(Model.TrainableParameters(), 1f);
        Optimizer.Step();
        return loss.ToScalar();
    }

    /// <summary>The <c>-- bert</c> mode: medians of <paramref name="runs"/> runs after 3 warm-ups, and the peak working set.</summary>
    public static void Run(TextWriter output, int runs = 10)
    {
        var w = new BertWorkload();
        double ti = Median(w.Infer, runs);
        double tt = Median(w.TrainStep, runs);
        using var p = System.Diagnostics.Process.GetCurrentProcess();
        output.WriteLine($"HierRec, {Environment.ProcessorCount} threads, GEMM {Gemm.Provider.Name}, BERT-mini L=4 H=256 A=4 I=1024, batch {Batch}x{Length} ({w.Input.AttentionMask.Sum()} real tokens, {w.Labels.Count(l => l != -100)} masked)");
        output.WriteLine($"inference : median {ti * 1e3:F1} ms/batch, {Batch * Length / ti:N0} tokens/s");
        output.WriteLine($"train step: median {tt * 1e3:F1} ms/step,  {Batch * Length / tt:N0} tokens/s");
        output.WriteLine($"peak working set: {p.PeakWorkingSet64 / (1024 * 1024)} MB, managed heap now {GC.GetTotalMemory(false) / (1024 * 1024)} MB, allocated per train step see BenchmarkDotNet");
    }

    /// <summary>Median wall time in seconds of <paramref name="runs"/> calls after 3 warm-ups.</summary>
    public static double Median(Func<float> f, int runs)
    {
        for (int i = 0; i < 3; i++) f();
        var times = new List<double>();
        for (int i = 0; i < runs; i++)
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            f();
            times.Add(sw.Elapsed.TotalSeconds);
        }
        times.Sort();
        return runs % 2 == 1 ? times[runs / 2] : (times[runs / 2 - 1] + times[runs / 2]) / 2;
    }
}

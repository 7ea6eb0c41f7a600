using HierRec.Text;

namespace HierRec.Benchmarks.Text;

/// <summary>
/// The BERT speed workload, the same work as <c>benchmarks/compare_bert_torch.py</c>: BERT-mini (L=4, H=256, A=4,
/// I=1,024, vocab 30,522), a batch of 32 × 64 tokens with rows padded after 48..64 tokens; inference is the encoder
/// forward without gradients; a train step is the masked-LM forward (dropout 0.1, logits at the ~15% masked
/// positions, tied decoder), cross-entropy, backward, clipping to norm 1 and AdamW over all parameters. The model runs
/// in <see cref="TorchBertWorkload"/>; the managed engine's run of this workload was retired with the engine (its
/// figures, measured at commit 1ab766c, stay in benchmarks/README.md).
/// </summary>
public static class BertWorkload
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

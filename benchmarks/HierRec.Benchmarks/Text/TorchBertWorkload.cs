using HierRec.Text;
using HierRec.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HierRec.Benchmarks.Text;

/// <summary>
/// <see cref="BertWorkload"/>'s work on the TorchSharp BERT (libtorch 2.10): the same BERT-mini, batch, padding and
/// masking (the same generator and seeds), inference through the fused attention, a train step with masked-LM loss,
/// backward, clipping to norm 1 and AdamW. Every step runs in a dispose scope.
/// </summary>
public sealed class TorchBertWorkload : IDisposable
{
    public TorchBertWorkload()
    {
        var legacy = new BertWorkload.Inputs();
        var config = new BertConfig { VocabSize = 30522, HiddenSize = 256, NumHiddenLayers = 4, NumAttentionHeads = 4, IntermediateSize = 1024 };
        Model = new BertForMaskedLM(config, seed: 0);
        Input = legacy.Input;
        Masked = legacy.Masked;
        Labels = legacy.Labels;
        Optimizer = Optimizers.AdamW(Model.named_parameters(), 1e-4, 0.01);
        Fused = new FusedAdamW(Model.named_parameters().Select(p => (p.parameter, Optimizers.Decays(p.name, p.parameter) ? 0.01 : 0.0)), 1e-4);
        Trainable = Model.parameters().ToList();
    }

    public BertForMaskedLM Model { get; }
    public BertBatch Input { get; }
    public BertBatch Masked { get; }
    public int[] Labels { get; }
    public AdamW Optimizer { get; }

    /// <summary>HierRec's fused AdamW, which its training loop uses on the CPU.</summary>
    public FusedAdamW Fused { get; }
    private List<Parameter> Trainable { get; }

    public float Infer()
    {
        Model.eval();
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        using var output = Model.Bert.Forward(Input);
        return output.LastHiddenState[0, 0, 0].item<float>();
    }

    /// <summary>A train step with HierRec's fused AdamW (what <c>TrainingLoop</c> runs on the CPU).</summary>
    public float TrainStep()
    {
        Model.train();
        using var scope = torch.NewDisposeScope();
        Fused.ZeroGrad();
        var loss = Model.Loss(Masked, Labels);
        loss.backward();
        torch.nn.utils.clip_grad_norm_(Trainable, 1.0);
        Fused.Step();
        return loss.item<float>();
    }

    /// <summary>The same step with TorchSharp's own AdamW.</summary>
    public float TrainStepTorchSharpAdamW()
    {
        Model.train();
        using var scope = torch.NewDisposeScope();
        Optimizer.zero_grad();
        var loss = Model.Loss(Masked, Labels);
        loss.backward();
        torch.nn.utils.clip_grad_norm_(Trainable, 1.0);
        Optimizer.step();
        return loss.item<float>();
    }

    public void Dispose()
    {
        Optimizer.Dispose();
        Fused.Dispose();
        Model.Dispose();
    }

    /// <summary>The <c>-- bert-torch</c> mode: medians of <paramref name="runs"/> runs after 3 warm-ups, and the peak working set.</summary>
    public static void Run(TextWriter output, int runs = 10)
    {
        using var w = new TorchBertWorkload();
        double ti = BertWorkload.Median(w.Infer, runs);
        double tt = BertWorkload.Median(w.TrainStep, runs);
        double tts = BertWorkload.Median(w.TrainStepTorchSharpAdamW, runs);
        using var p = System.Diagnostics.Process.GetCurrentProcess();
        output.WriteLine($"TorchSharp {typeof(torch).Assembly.GetName().Version!.ToString(3)} (libtorch {torch.__version__}), {torch.get_num_threads()} threads, SDPA, BERT-mini L=4 H=256 A=4 I=1024, batch {BertWorkload.Batch}x{BertWorkload.Length} ({w.Input.AttentionMask.Sum()} real tokens, {w.Labels.Count(l => l != -100)} masked)");
        output.WriteLine($"inference : median {ti * 1e3:F1} ms/batch, {BertWorkload.Batch * BertWorkload.Length / ti:N0} tokens/s");
        output.WriteLine($"train step: median {tt * 1e3:F1} ms/step,  {BertWorkload.Batch * BertWorkload.Length / tt:N0} tokens/s (HierRec's fused AdamW)");
        output.WriteLine($"train step: median {tts * 1e3:F1} ms/step,  {BertWorkload.Batch * BertWorkload.Length / tts:N0} tokens/s (TorchSharp's AdamW)");
        output.WriteLine($"peak working set: {p.PeakWorkingSet64 / (1024 * 1024)} MB");
    }
}

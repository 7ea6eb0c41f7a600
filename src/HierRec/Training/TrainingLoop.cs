using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using HierRec.Serialization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace HierRec.Training;

/// <summary>
/// The one training loop of HierRec: AdamW with warm-up and linear decay, gradient clipping, a non-finite-loss check,
/// progress, cancellation, validation with early stopping and the best weights restored, atomic checkpoints and exact
/// resume. Every step runs under a dispose scope, so the live tensor count does not grow with the steps.
/// </summary>
/// <remarks>
/// Reproducibility: batches come from HierRec's own generator (seeded by <see cref="LoopOptions.Seed"/>); dropout masks
/// come from libtorch's global generator, which the loop seeds at the start of every epoch from the seed and the epoch
/// (TorchSharp's dropout takes no generator). Two runs with the same seed agree exactly when nothing else draws from
/// that global generator while they train (another training in parallel would).
/// </remarks>
public static class TrainingLoop
{
    private const string StateFormat = "hierrec-training-state";
    private const int StateVersion = 3; // 3: the optimizer file starts with which AdamW wrote it

    /// <summary>
    /// As <see cref="Run"/> for a model a Fit has just built and would hand out: when the loop throws (cancelled, a
    /// non-finite loss), <paramref name="model"/> is disposed before the exception goes on, since nobody else holds it and
    /// the GC never frees a libtorch module's memory.
    /// </summary>
    internal static LoopReport RunOrDispose(IDisposable model, ITrainingTask task, LoopOptions options, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        try
        {
            return Run(task, options, progress, cancellationToken);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Runs <paramref name="task"/> to the end, early stopping, cancellation or a non-finite loss.</summary>
    /// <exception cref="InvalidOperationException">The loss became non-finite (the best weights so far are restored first).</exception>
    /// <exception cref="OperationCanceledException">Cancelled between steps (the best weights so far are restored first).</exception>
    public static LoopReport Run(ITrainingTask task, LoopOptions options, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var o = options;
        var sw = Stopwatch.StartNew();
        var model = task.Model;
        int stepsPerEpoch = Math.Max(1, task.StepsPerEpoch);
        long totalSteps = (long)stepsPerEpoch * o.Epochs;
        using var optimizer = new LoopOptimizer(model.named_parameters(), o.LearningRate, o.WeightDecay);
        var schedule = new LearningRateSchedule(o.LearningRate, (long)Math.Ceiling(totalSteps * o.WarmupFraction), totalSteps, o.Decay);
        var trainable = model.parameters().Where(p => p.requires_grad).ToList();
        bool validating = task.MetricName is not null;
        var rng = new Rng(o.Seed);
        var state = new LoopState(StateFormat, StateVersion, 0, double.NaN, 0, 0, 0, rng.GetState(), [], [], Fingerprint(model), task.DataFingerprint, "");
        Dictionary<string, Tensor>? best = null;
        if (o.CheckpointFolder is not null && TryResume(model, optimizer, o.CheckpointFolder, state, out var resumed))
        {
            state = resumed;
            rng.SetState(state.Rng);
            string bestPath = Path.Combine(o.CheckpointFolder, "best.safetensors");
            if (File.Exists(bestPath)) best = TorchCheckpoint.Read(bestPath);
        }
        var losses = new List<double>(state.Losses);
        var validation = new List<double>(state.Validation);
        int resumedFrom = state.Epoch, epoch = state.Epoch;
        long step = state.Step;
        bool stoppedEarly = false, finished = false;
        // On a failure before the first validation the model goes back to where this call started, never to half-trained weights.
        var start = best is null ? TorchCheckpoint.Snapshot(model) : null;
        try
        {
            while (epoch < o.Epochs)
            {
                epoch++;
                torch.manual_seed(unchecked((long)(o.Seed * 0x9E3779B97F4A7C15UL) + epoch)); // dropout: a function of seed and epoch
                task.BeginEpoch(epoch);
                model.train();
                double sum = 0;
                int count = 0;
                foreach (var lossOf in task.Epoch(epoch, rng))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    double value;
                    NoCollection.Ensure(); // see NoCollection: TorchSharp's scalars and the garbage collector
                    using (torch.NewDisposeScope())
                    {
                        optimizer.SetLearningRate(schedule.RateAt(step));
                        optimizer.ZeroGrad();
                        var loss = lossOf();
                        if (loss is null) continue; // nothing to learn from in this batch
                        value = loss.item<float>();
                        if (!double.IsFinite(value))
                            throw new InvalidOperationException($"{task.Phase}: the loss became {value} at epoch {epoch}, step {step + 1}; "
                                + (best is null ? "the model keeps the weights it started with (no epoch was validated yet)." : $"the model keeps the best weights so far (epoch {state.BestEpoch}).")
                                + " Lower the learning rate or check the data.");
                        loss.backward();
                        if (o.ClipNorm > 0) torch.nn.utils.clip_grad_norm_(trainable, o.ClipNorm);
                        optimizer.Step();
                    }
                    step++;
                    sum += value;
                    count++;
                    progress?.Report(new TrainingProgress(ProgressKind.Step, task.Phase, epoch, o.Epochs, step, totalSteps, value));
                }
                losses.Add(count == 0 ? double.NaN : sum / count);
                double metric = double.NaN;
                int bestEpoch = state.BestEpoch, sinceBest = state.SinceBest;
                double bestValue = state.Best;
                if (validating)
                {
                    metric = Validate(task);
                    validation.Add(metric);
                    bool better = double.IsNaN(bestValue) || (task.LowerIsBetter ? metric < bestValue : metric > bestValue);
                    if (better && !double.IsNaN(metric))
                    {
                        bestValue = metric;
                        bestEpoch = epoch;
                        sinceBest = 0;
                        Dispose(best);
                        best = TorchCheckpoint.Snapshot(model);
                        if (o.CheckpointFolder is not null)
                        {
                            Directory.CreateDirectory(o.CheckpointFolder);
                            TorchCheckpoint.Save(Path.Combine(o.CheckpointFolder, "best.safetensors"), best);
                        }
                    }
                    else sinceBest++;
                }
                else bestEpoch = epoch;
                state = state with { Epoch = epoch, Step = step, Best = bestValue, BestEpoch = bestEpoch, SinceBest = sinceBest, Rng = rng.GetState(), Losses = [.. losses], Validation = [.. validation] };
                if (o.CheckpointFolder is not null) SaveResume(model, optimizer, o.CheckpointFolder, state);
                progress?.Report(new TrainingProgress(ProgressKind.Epoch, task.Phase, epoch, o.Epochs, step, totalSteps, losses[^1],
                    validating ? metric : null, task.MetricName, validating && sinceBest == 0 ? "best so far" : null));
                if (validating && epoch >= o.MinEpochs && sinceBest >= o.Patience && epoch < o.Epochs)
                {
                    stoppedEarly = true;
                    break;
                }
            }
            finished = true;
        }
        finally
        {
            // The best weights go back into the model on success, cancellation and a non-finite loss alike.
            if (best is not null) TorchCheckpoint.Load(model, best, "the best checkpoint");
            else if (!finished && start is not null) TorchCheckpoint.Load(model, start, "the starting weights");
            Dispose(best);
            Dispose(start);
            NoCollection.End();
            model.zero_grad(set_to_none: true); // a fitted model carries no gradients (memory, and explanations start clean)
            model.eval();
        }
        return new LoopReport(state.BestEpoch, state.Best, losses, validation, step, sw.Elapsed, resumedFrom, stoppedEarly);
    }

    private static double Validate(ITrainingTask task)
    {
        var model = task.Model;
        bool training = model.training;
        model.eval();
        try
        {
            using var noGrad = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            return task.Validate();
        }
        finally
        {
            model.train(training);
        }
    }

    private static void Dispose(Dictionary<string, Tensor>? tensors)
    {
        if (tensors is null) return;
        foreach (var t in tensors.Values) t.Dispose();
    }

    /// <summary>Names and shapes of the trainable parameters: a resume point must belong to the same architecture.</summary>
    private static string Fingerprint(nn.Module model)
    {
        var text = string.Join(";", model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name + TorchInterop.ShapeString(p.parameter.shape)));
        return Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));
    }

    private sealed record LoopState(string Format, int Version, int Epoch, double Best, int BestEpoch, int SinceBest, long Step, uint[] Rng,
        double[] Losses, double[] Validation, string Fingerprint, string DataFingerprint, string OptimizerSha256);

    private static readonly JsonSerializerOptions StateJson = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>The resume point, written as one folder so that its files always belong together.</summary>
    private static void SaveResume(nn.Module model, LoopOptimizer optimizer, string folder, LoopState state)
    {
        Directory.CreateDirectory(folder);
        AtomicFile.WriteDirectory(Path.Combine(folder, "resume"), dir =>
        {
            TorchCheckpoint.Save(Path.Combine(dir, "last.safetensors"), model);
            string optimizerPath = Path.Combine(dir, "optimizer.bin");
            AtomicFile.Write(optimizerPath, s =>
            {
                using var writer = new BinaryWriter(s, System.Text.Encoding.UTF8, leaveOpen: true);
                optimizer.Save(writer);
            });
            string hash = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(optimizerPath)));
            var json = JsonSerializer.SerializeToUtf8Bytes(state with { OptimizerSha256 = hash }, StateJson);
            AtomicFile.Write(Path.Combine(dir, "state.json"), s => s.Write(json));
        });
    }

    private static bool TryResume(nn.Module model, LoopOptimizer optimizer, string folder, LoopState expected, out LoopState state)
    {
        state = null!;
        string dir = Path.Combine(folder, "resume");
        AtomicFile.Recover(dir);
        string statePath = Path.Combine(dir, "state.json");
        if (!File.Exists(statePath)) return false;
        if (FolderChecksums.Present(dir)) FolderChecksums.Verify(dir);
        LoopState? read;
        try
        {
            read = JsonSerializer.Deserialize<LoopState>(File.ReadAllBytes(statePath), StateJson);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{statePath}: not valid ({ex.Message}).", ex);
        }
        if (read is null || read.Format != StateFormat)
            throw new InvalidDataException($"{statePath}: not a HierRec training state.");
        if (read.Version != StateVersion)
            throw new InvalidDataException($"{statePath}: training state version {read.Version}; this HierRec reads version {StateVersion} (states written before the TorchSharp port cannot be resumed). Use another CheckpointFolder.");
        if (read.Fingerprint != expected.Fingerprint)
            throw new InvalidDataException($"{statePath}: the checkpoint was written for another model (its parameters differ); use another CheckpointFolder.");
        if (read.DataFingerprint != expected.DataFingerprint)
            throw new InvalidDataException($"{statePath}: the checkpoint was written for other training data (users or items differ); use another CheckpointFolder.");
        if (read.Rng is null || read.Rng.Length == 0 || read.Losses is null || read.Validation is null)
            throw new InvalidDataException($"{statePath}: fields are missing.");
        string optimizerPath = Path.Combine(dir, "optimizer.bin");
        if (!File.Exists(optimizerPath)) throw new InvalidDataException($"{optimizerPath}: missing from the resume point.");
        var bytes = File.ReadAllBytes(optimizerPath);
        if (!string.Equals(Convert.ToHexString(SHA256.HashData(bytes)), read.OptimizerSha256, StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException($"{optimizerPath}: its hash does not match state.json; the resume point is damaged.");
        TorchCheckpoint.Load(model, Path.Combine(dir, "last.safetensors"));
        using (var stream = new MemoryStream(bytes))
        using (var reader = new BinaryReader(stream))
            optimizer.Load(reader, optimizerPath);
        state = read;
        return true;
    }
}

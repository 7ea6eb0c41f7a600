using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace HierRec.Training;

/// <summary>What a run of <see cref="TrainingLoop"/> did.</summary>
/// <param name="BestEpoch">Epoch of the best validation value (its weights are in the model), or the last epoch without validation.</param>
/// <param name="BestValidation">That value (NaN without validation).</param>
/// <param name="EpochLosses">Mean training loss per epoch run.</param>
/// <param name="Validation">Validation value per epoch run.</param>
/// <param name="Steps">Optimizer steps taken, resumed ones included.</param>
/// <param name="Elapsed">Wall time of this call.</param>
/// <param name="ResumedFromEpoch">The epoch a resumed run started after, or 0.</param>
/// <param name="StoppedEarly">Whether early stopping ended the run before the last epoch.</param>
public sealed record LoopReport(int BestEpoch, double BestValidation, IReadOnlyList<double> EpochLosses, IReadOnlyList<double> Validation, long Steps,
    TimeSpan Elapsed, int ResumedFromEpoch, bool StoppedEarly);

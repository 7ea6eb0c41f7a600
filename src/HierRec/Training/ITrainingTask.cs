using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace HierRec.Training;

/// <summary>
/// What a model supplies to <see cref="TrainingLoop"/>, as RecBole's models supply <c>calculate_loss</c> and
/// <c>full_sort_predict</c> to its trainer: the module, the loss of each step, and a validation score.
/// </summary>
public interface ITrainingTask
{
    /// <summary>The module whose trainable parameters the loop fits (its state is what checkpoints hold).</summary>
    nn.Module Model { get; }

    /// <summary>Name of the run in progress reports ("training", "pre-training BERT").</summary>
    string Phase { get; }

    /// <summary>Name of the validation metric (larger is better unless <see cref="LowerIsBetter"/>), or null without validation.</summary>
    string? MetricName { get; }

    /// <summary>Whether smaller validation values are better (perplexity).</summary>
    bool LowerIsBetter { get; }

    /// <summary>Steps in every epoch.</summary>
    int StepsPerEpoch { get; }

    /// <summary>
    /// The steps of one epoch: each returns the scalar loss of a batch drawn with <paramref name="rng"/>, or null when
    /// the batch has nothing to learn from (no step is taken). The loop calls each under a dispose scope with the model
    /// in training mode; an epoch's batches may depend only on the epoch, the generator and the model, so a resumed run
    /// draws the same batches.
    /// </summary>
    IEnumerable<Func<Tensor?>> Epoch(int epoch, Rng rng);

    /// <summary>Called before each epoch (refresh cached tables).</summary>
    void BeginEpoch(int epoch) { }

    /// <summary>The validation metric of the current weights (the loop sets eval mode and no-grad); NaN without validation.</summary>
    double Validate();

    /// <summary>What the training data is (users, items): a resume point written for other data is refused. Empty: not checked.</summary>
    string DataFingerprint => "";
}

using HierRec.Data;
using HierRec.Evaluation;
using HierRec.Training;
using TorchSharp;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace HierRec.Baselines;

/// <summary>
/// What every baseline's task on the shared loop has in common: the module, its name as the phase, and early stopping on
/// validation NDCG@10 of the model scored as an <see cref="IScoringModel"/> (training items excluded). Subclasses give
/// the epochs' batches.
/// </summary>
internal abstract class ValidatedTask(nn.Module model, IScoringModel scoring, Dataset train, Dataset? validation, Action? beforeValidation = null) : ITrainingTask
{
    private readonly Evaluator _evaluator = new() { Ks = [10] };

    public nn.Module Model => model;

    public string Phase => model.GetName();

    public string? MetricName => validation is null ? null : "ndcg@10";

    public bool LowerIsBetter => false;

    public abstract int StepsPerEpoch { get; }

    public abstract string DataFingerprint { get; }

    public abstract IEnumerable<Func<Tensor?>> Epoch(int epoch, Rng rng);

    public double Validate()
    {
        if (validation is null) return double.NaN;
        beforeValidation?.Invoke();
        return _evaluator.Evaluate(scoring, validation, train)["ndcg@10"];
    }
}

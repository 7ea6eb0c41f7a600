namespace HierRec.Training;

/// <summary>What training did.</summary>
/// <param name="BestEpoch">Epoch of the best validation NDCG@10 (its weights are in the model).</param>
/// <param name="BestValidationNdcg">That NDCG@10.</param>
/// <param name="EpochLosses">Mean training loss per epoch run.</param>
/// <param name="ValidationNdcg">Validation NDCG@10 per epoch run.</param>
/// <param name="Elapsed">Wall time.</param>
/// <param name="ResumedFromEpoch">The epoch a resumed run started after, or 0.</param>
public sealed record HierarchicalTrainingReport(int BestEpoch, double BestValidationNdcg, IReadOnlyList<double> EpochLosses, IReadOnlyList<double> ValidationNdcg, TimeSpan Elapsed, int ResumedFromEpoch);

using HierRec.Text;

namespace HierRec.Concepts;

/// <summary>What <see cref="ConceptTrainer"/> measured.</summary>
/// <param name="InterestEpochs">Epochs of the self-supervised interest phase run.</param>
/// <param name="InterestValidationNdcg">Best validation NDCG@10 of ranking by sim(I_u, P_i) (NaN without validation).</param>
/// <param name="AlignmentEpochs">Epochs of the alignment phase run.</param>
/// <param name="DescriptionValidationNdcg">Best validation NDCG@10 of ranking by the description alone (C⁺).</param>
/// <param name="SteeringWeight">β in use.</param>
/// <param name="ColdSteeringWeight">β of text cold start in use.</param>
/// <param name="ColdValidationNdcg">Validation NDCG@10 of serving the described users from their description alone at that β.</param>
/// <param name="PositiveThreshold">θ in use.</param>
/// <param name="NegativeThreshold">θ⁻ in use.</param>
/// <param name="UnfilteredValidationNdcg">Validation NDCG@10 of the user vectors without steering or filter (NaN when not calibrated).</param>
/// <param name="FilteredValidationNdcg">The same with steering β and the filter at (θ, θ⁻).</param>
/// <param name="WallTime">Total time, BERT pre-training included.</param>
/// <param name="Bert">The domain BERT's pre-training report, when one was pre-trained.</param>
/// <param name="PositiveFilterOff">
/// Calibration switched the positive filter off (θ = −∞): descriptions steer, and filter only by their rejections.
/// </param>
/// <param name="NegativeFilterFallback">
/// Calibration chose no similarity filter on the negative side (θ⁻ = +∞): rejections remove the items whose text names
/// their words (the lexical guard), and a rejection whose words no item text names falls back to
/// <paramref name="NegativeFallbackThreshold"/>, <see cref="ConceptOptions.NegativeFallbackQuantile"/>'s quantile.
/// </param>
/// <param name="NegativeFilterOff">
/// Rejections in descriptions remove nothing: θ⁻ = +∞, no fallback θ⁻ and no lexical guard (no item texts).
/// </param>
/// <param name="NegativeFallbackThreshold">
/// With <paramref name="NegativeFilterFallback"/>: the θ⁻ that serves rejections whose words no item text names
/// (<see cref="ConceptModel.NegativeFallbackThreshold"/>); +∞ otherwise.
/// </param>
/// <param name="WordSteeringWeight">β_w of word steering in use (<see cref="ConceptModel.WordSteeringWeight"/>; 0: off).</param>
/// <param name="ColdWordSteeringWeight">β_w of text cold start in use.</param>
/// <param name="WordSteeringTrials">
/// The validation NDCG@10 of each word-steering weight calibration tried (with β, without the filter), or null when it
/// was fixed or not calibrated: compare with <see cref="UnfilteredValidationNdcg"/>, the NDCG without a description.
/// </param>
/// <param name="ColdNeighbours">
/// k of text cold start's like-minded users in use (<see cref="ConceptModel.ColdNeighbours"/>; 0: the steered x_∅ serves
/// newcomers). When above 0, <paramref name="ColdValidationNdcg"/> and <paramref name="ColdWordSteeringWeight"/> are that
/// path's.
/// </param>
/// <param name="ColdNeighbourTrials">
/// Every (k, β_w) calibration tried for it with its stand-in newcomers' validation NDCG@10; the first row (k 0) is the
/// steered x_∅ at the chosen (β, β_w) on the same stand-ins. Null when not calibrated.
/// </param>
/// <param name="InterestRefinementEpochs">
/// Epochs of the interest's refinement kept (<see cref="ConceptOptions.InterestRefinementEpochs"/>); 0 when it was off,
/// or ran and was not kept because validation did not rise.
/// </param>
/// <param name="RefinedInterestValidationNdcg">Best validation NDCG@10 the refinement reached (NaN when it did not run or without validation).</param>
public sealed record ConceptReport(int InterestEpochs, double InterestValidationNdcg, int AlignmentEpochs, double DescriptionValidationNdcg,
    float SteeringWeight, float ColdSteeringWeight, double ColdValidationNdcg, float PositiveThreshold, float NegativeThreshold, double UnfilteredValidationNdcg, double FilteredValidationNdcg, TimeSpan WallTime, MlmReport? Bert,
    bool PositiveFilterOff = false, bool NegativeFilterFallback = false, bool NegativeFilterOff = false, float NegativeFallbackThreshold = float.PositiveInfinity, float WordSteeringWeight = 0, float ColdWordSteeringWeight = 0,
    IReadOnlyList<(float Weight, double Ndcg)>? WordSteeringTrials = null, int ColdNeighbours = 0, IReadOnlyList<(int Neighbours, float Word, double Ndcg)>? ColdNeighbourTrials = null,
    int InterestRefinementEpochs = 0, double RefinedInterestValidationNdcg = double.NaN)
{
    /// <summary>What calibration decided about the filters, in words (never silent).</summary>
    public string FilterSummary =>
        (PositiveFilterOff ? "positive filter off (descriptions steer only); " : $"positive filter at θ {PositiveThreshold:G3}; ")
        + (NegativeFilterOff ? "negative filter OFF: rejections remove nothing"
            : NegativeFilterFallback ? $"negative similarity filter off by calibration: rejections remove the items whose text names them, and where no item text does, the fallback θ⁻ {NegativeFallbackThreshold:G3} applies"
            : $"negative filter at θ⁻ {NegativeThreshold:G3}");
}

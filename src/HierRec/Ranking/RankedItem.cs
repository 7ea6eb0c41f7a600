namespace HierRec.Ranking;

/// <summary>One recommended item: its position in the index, its score and its probability under the softmax.</summary>
/// <param name="ItemIndex">Dense index of the item in the <see cref="ItemIndex"/>.</param>
/// <param name="Score">The similarity (dot product or cosine), exact float32 even for quantised indexes.</param>
/// <param name="Probability">P(i|u) = exp(score/T) / Σ_j exp(score_j/T) over the whole catalogue (see <see cref="RankOptions"/>).</param>
public readonly record struct RankedItem(int ItemIndex, float Score, float Probability);

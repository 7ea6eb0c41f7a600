using TorchSharp;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace HierRec.Concepts;

/// <summary>What <see cref="ConceptTrainer"/> learns from.</summary>
/// <param name="Histories">Per dense user, the training items most recent first.</param>
/// <param name="Descriptions">Per dense user, one or more phrasings of the user's interest description (null or empty: none).</param>
/// <param name="Items">P: the item vectors (items, D) the concepts live with (e.g. the recommender's item tower); a constant.</param>
/// <param name="ItemTexts">Item texts, for pre-training the domain BERT when none is given.</param>
/// <param name="ValidationItems">Per dense user, validation items (null: no early stopping and no calibration).</param>
/// <param name="UserVectors">The recommender's user vectors x_u for dense users, for choosing the thresholds (null: no calibration).</param>
/// <param name="EmptyUserVector">The recommender's vector x_∅ of a user with nothing known, for text cold start (null: C⁺ alone).</param>
public sealed record ConceptTrainingData(IReadOnlyList<int[]> Histories, IReadOnlyList<IReadOnlyList<string>?> Descriptions, Tensor Items,
    IReadOnlyList<string> ItemTexts, IReadOnlyList<int[]>? ValidationItems = null, Func<int[], float[][]>? UserVectors = null, float[]? EmptyUserVector = null);

using HierRec.Ranking;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HierRec.Scoring;

/// <summary>How a scorer is served by the ranker: the index's similarity, its softmax temperature, and the score shown.</summary>
/// <param name="Similarity">What the index computes.</param>
/// <param name="Temperature">The softmax temperature giving P(i|u) from the index scores.</param>
/// <param name="Transform">Maps an index score to the scorer's score (for example σ(s + b)); null: the score itself.</param>
public sealed record ServingScore(Similarity Similarity, float Temperature, Func<float, float>? Transform);

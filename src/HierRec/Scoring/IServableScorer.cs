using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HierRec.Scoring;

/// <summary>A scorer the ranker can serve: the index computes its ranking exactly.</summary>
public interface IServableScorer : IScorer
{
    /// <summary>How the ranker reproduces this scorer.</summary>
    ServingScore Serving { get; }
}

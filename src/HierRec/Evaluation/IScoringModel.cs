using System.Text;
using System.Text.Json;
using HierRec.Data;
using HierRec.Ranking;

namespace HierRec.Evaluation;

/// <summary>
/// A model that scores users against every item. Higher is better; the evaluator excludes known items itself.
/// </summary>
/// <remarks>Implementations must allow concurrent calls with different destination buffers.</remarks>
public interface IScoringModel
{
    /// <summary>Number of items scored per user.</summary>
    int ItemCount { get; }

    /// <summary>Writes scores (users.Length × ItemCount, row-major) for <paramref name="users"/>.</summary>
    void ScoreUsers(ReadOnlySpan<int> users, Span<float> scores);
}

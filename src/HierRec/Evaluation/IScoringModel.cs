namespace HierRec.Evaluation;

/// <summary>
/// A model that scores users against every item. Higher is better; the evaluator excludes known items itself.
/// </summary>
/// <remarks>
/// Implementations must allow concurrent calls with different destination buffers, up to <see cref="MaxParallelism"/>.
/// </remarks>
public interface IScoringModel
{
    /// <summary>Number of items scored per user.</summary>
    int ItemCount { get; }

    /// <summary>Writes scores (users.Length × ItemCount, row-major) for <paramref name="users"/>.</summary>
    void ScoreUsers(ReadOnlySpan<int> users, Span<float> scores);

    /// <summary>
    /// Most concurrent <see cref="ScoreUsers"/> calls worth making (0: as many as there are cores). Models that score
    /// through libtorch say 1: libtorch already uses every core inside one call.
    /// </summary>
    int MaxParallelism => 0;
}

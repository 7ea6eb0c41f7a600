namespace HierRec.Explanations;

/// <summary>The deletion test's averages over users.</summary>
/// <param name="Users">Users tested (history at least the minimum length and an attribution pass).</param>
/// <param name="Removed">History items removed per user.</param>
/// <param name="MeanDropTopAttributed">Mean score drop of the user's top-1 item when the items with the largest attributions are removed.</param>
/// <param name="MeanDropTopAttention">The same, removing the items with the largest attention weights.</param>
/// <param name="MeanDropRandom">The same, removing random items.</param>
/// <param name="ShareTopBeatsRandom">Share of users whose drop is larger for the top-attributed items than for the random ones.</param>
public sealed record DeletionTestResult(int Users, int Removed, double MeanDropTopAttributed, double MeanDropTopAttention, double MeanDropRandom, double ShareTopBeatsRandom);

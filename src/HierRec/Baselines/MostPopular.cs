using HierRec.Data;
using HierRec.Evaluation;

namespace HierRec.Baselines;

/// <summary>Scores every item by its number of training interactions, the same list for every user.</summary>
/// <remarks>Thread-safe after construction.</remarks>
public sealed class MostPopular : IScoringModel
{
    private readonly float[] _counts;

    /// <summary>Counts the items of <paramref name="train"/>.</summary>
    public MostPopular(Dataset train)
    {
        ArgumentNullException.ThrowIfNull(train);
        _counts = new float[train.ItemCount];
        foreach (var x in train.Interactions) _counts[x.Item]++;
    }

    /// <inheritdoc />
    public int ItemCount => _counts.Length;

    /// <inheritdoc />
    public void ScoreUsers(ReadOnlySpan<int> users, Span<float> scores)
    {
        for (int u = 0; u < users.Length; u++) _counts.CopyTo(scores.Slice(u * _counts.Length, _counts.Length));
    }
}

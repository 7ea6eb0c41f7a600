using TorchSharp;
using static TorchSharp.torch;

namespace HierRec;

/// <summary>Conveniences over <see cref="IScorer"/> for one user, as plain floats.</summary>
public static class ScorerExtensions
{
    /// <summary>The score of one user vector against one item vector.</summary>
    public static float Score(this IScorer scorer, ReadOnlySpan<float> user, ReadOnlySpan<float> item)
    {
        ArgumentNullException.ThrowIfNull(scorer);
        if (user.Length != item.Length) throw new ArgumentException($"User ({user.Length}) and item ({item.Length}) vectors differ in length.", nameof(item));
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        return scorer.ScorePairs(torch.tensor(user.ToArray(), [1, user.Length]), torch.tensor(item.ToArray(), [1, item.Length])).item<float>();
    }

    /// <summary>The scores of one user vector against every row of <paramref name="items"/> (row-major, count × user.Length).</summary>
    public static float[] ScoreAll(this IScorer scorer, ReadOnlySpan<float> user, ReadOnlySpan<float> items)
    {
        ArgumentNullException.ThrowIfNull(scorer);
        if (user.Length == 0 || items.Length % user.Length != 0)
            throw new ArgumentException($"Items hold {items.Length} values, not a whole number of {user.Length}-wide rows.", nameof(items));
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var result = scorer.ScoreMatrix(torch.tensor(user.ToArray(), [1, user.Length]), torch.tensor(items.ToArray(), [items.Length / user.Length, user.Length]));
        return TorchInterop.ToFloats(result);
    }
}

namespace HierRec;

/// <summary>
/// What an external store needs: the catalogue's item ids and vectors (to publish them, e.g. to PostgreSQL with
/// HierRec.PostgreSql), a user's history (to exclude it), and exact scores for candidates fetched elsewhere (to re-rank).
/// </summary>
public sealed partial class HierarchicalRecommender
{
    /// <summary>Item ids in the order of <see cref="ExportItemVectors"/>' rows (the ranker's item index order).</summary>
    public IReadOnlyList<string> ItemIds => _itemIdList ??= Enumerable.Range(0, _items.Count).Select(_items.ToExternal).ToArray(); // the catalogue is fixed after Fit or Load

    private string[]? _itemIdList;

    /// <summary>Length of the item and user vectors.</summary>
    public int Dimension => _model.Options.Dimension;

    /// <summary>A copy of the item vectors E, row-major (<see cref="ItemIds"/>.Count × <see cref="Dimension"/>).</summary>
    public float[] ExportItemVectors() => (float[])_itemArray.Clone();

    /// <summary>The items a known user interacted with in the training data, most recent first.</summary>
    /// <exception cref="KeyNotFoundException">Unknown user id.</exception>
    public IReadOnlyList<string> History(string userId) => _context.Histories[KnownUser(userId, null)].Select(_items.ToExternal).ToArray();

    /// <summary>
    /// Exact scores of <paramref name="itemIds"/> for a known user, as <see cref="Recommend(string, int)"/> reports them
    /// (the scorer's serving transform applied): the re-ranking step for candidates generated elsewhere.
    /// </summary>
    /// <exception cref="KeyNotFoundException">Unknown user or item id (named).</exception>
    public float[] Score(string userId, IReadOnlyList<string> itemIds)
    {
        ArgumentNullException.ThrowIfNull(itemIds);
        var x = UserVectors([KnownUser(userId, null)])[0];
        var serving = _model.Scorer.Serving;
        int d = Dimension;
        var scores = new float[itemIds.Count];
        for (int j = 0; j < scores.Length; j++)
        {
            int i = _items.TryGetDense(itemIds[j] ?? throw new ArgumentException($"itemIds[{j}] is null.", nameof(itemIds)), out int dense) ? dense
                : throw new KeyNotFoundException($"Unknown item '{itemIds[j]}' (itemIds[{j}]).");
            float s = Dot(x, _itemArray.AsSpan(i * d, d));
            scores[j] = serving.Transform?.Invoke(s) ?? s;
        }
        return scores;
    }
}

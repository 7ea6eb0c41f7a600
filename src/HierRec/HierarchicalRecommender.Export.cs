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

    /// <summary>Known user ids in the model's user index order (the dense index of <see cref="Context"/>'s lists).</summary>
    public IReadOnlyList<string> UserIds => _userIdList ??= Enumerable.Range(0, _users.Count).Select(_users.ToExternal).ToArray(); // fixed after Fit or Load

    private string[]? _userIdList;

    /// <summary>
    /// Length of the served item and user vectors (<see cref="ExportItemVectors"/>, <see cref="UserVector"/>): the model's
    /// dimension D, plus the collaborative dimension's rank when it is served.
    /// </summary>
    public int Dimension => _fusion?.Width ?? _model.Options.Dimension;

    /// <summary>
    /// A copy of the served item rows (E_i, or [E_i ; V_i] with the collaborative dimension), row-major
    /// (<see cref="ItemIds"/>.Count × <see cref="Dimension"/>), ready for an inner-product index: for a cosine scorer each
    /// row is scaled to unit length, so ranking by ⟨<see cref="UserVector"/>, row⟩ ranks as the model does (zero rows stay zero).
    /// </summary>
    public float[] ExportItemVectors()
    {
        var rows = (float[])_servedRows.Clone();
        if (_model.Scorer.Serving.Similarity == Ranking.Similarity.Cosine)
        {
            int d = Dimension;
            for (int i = 0; i < rows.Length / d; i++)
            {
                var row = rows.AsSpan(i * d, d);
                float norm = System.Numerics.Tensors.TensorPrimitives.Norm(row);
                if (norm > 0) System.Numerics.Tensors.TensorPrimitives.Divide(row, norm, row);
            }
        }
        return rows;
    }

    /// <summary>Whether <paramref name="userId"/> is a known user (in the training data).</summary>
    public bool HasUser(string userId) => userId is not null && _users.TryGetDense(userId, out _);

    /// <summary>Whether <paramref name="itemId"/> is in the catalogue.</summary>
    public bool HasItem(string itemId) => itemId is not null && _items.TryGetDense(itemId, out _);

    /// <summary>The items a known user interacted with in the training data, most recent first.</summary>
    /// <exception cref="KeyNotFoundException">Unknown user id.</exception>
    public IReadOnlyList<string> History(string userId) => _context.Histories[KnownUser(userId, null)].Select(_items.ToExternal).ToArray();

    /// <summary>How the scorer is served: the index similarity, the softmax temperature of P(i|u), and the shown-score transform.</summary>
    public Scoring.ServingScore Serving => _model.Scorer.Serving;

    /// <summary>
    /// Exact scores of <paramref name="itemIds"/> for a known user, as <see cref="Recommend(string, int)"/> reports them
    /// (the scorer's serving transform applied): the re-ranking step for candidates generated elsewhere.
    /// </summary>
    /// <exception cref="KeyNotFoundException">Unknown user or item id (named).</exception>
    public float[] Score(string userId, IReadOnlyList<string> itemIds)
    {
        var scores = IndexScores(userId, itemIds);
        if (Serving.Transform is { } transform)
            for (int j = 0; j < scores.Length; j++) scores[j] = transform(scores[j]);
        return scores;
    }

    /// <summary>
    /// The ranker's scores of <paramref name="itemIds"/> for a known user, before the serving transform: ⟨x_u, E_i⟩ (plus
    /// the collaborative part w_u ⟨c_u, V_i⟩ when that dimension is served), or the cosine for a cosine scorer, plus the
    /// friends' items lift when that dimension is served (it is not in the exported vectors: a vector store's candidates
    /// come from the dot product alone, and re-ranking them with these scores adds it). They are the logits of P(i|u) at
    /// <see cref="Serving"/>.Temperature, so a softmax over candidates fetched elsewhere is computed from these, not from
    /// the shown scores.
    /// </summary>
    /// <exception cref="KeyNotFoundException">Unknown user or item id (named).</exception>
    public float[] IndexScores(string userId, IReadOnlyList<string> itemIds)
    {
        ArgumentNullException.ThrowIfNull(itemIds);
        var x = UserVector(userId);
        (int[] Items, float[] Lifts)? lifts = null;
        if (_friendItems is not null)
        {
            int u = KnownUser(userId, null);
            lifts = _friendItems.Lifts(u, UserVectors([u])[0]);
        }
        bool cosine = Serving.Similarity == Ranking.Similarity.Cosine;
        float userNorm = cosine ? System.Numerics.Tensors.TensorPrimitives.Norm(x) : 1f;
        int d = Dimension;
        var scores = new float[itemIds.Count];
        for (int j = 0; j < scores.Length; j++)
        {
            int i = _items.TryGetDense(itemIds[j] ?? throw new ArgumentException($"itemIds[{j}] is null.", nameof(itemIds)), out int dense) ? dense
                : throw new KeyNotFoundException($"Unknown item '{itemIds[j]}' (itemIds[{j}]).");
            var row = _servedRows.AsSpan(i * d, d);
            float s = Dot(x, row);
            if (cosine)
            {
                // As the ranker computes it: zero vectors score 0.
                float norms = userNorm * System.Numerics.Tensors.TensorPrimitives.Norm(row);
                s = norms > 0 ? s / norms : 0f;
            }
            scores[j] = lifts is { } l ? s + Fusion.FriendItemsDimension.LiftOf(l, i) : s;
        }
        return scores;
    }
}

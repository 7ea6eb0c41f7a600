namespace HierRec.PostgreSql;

/// <summary>A recommendation served from database candidates and re-ranked by HierRec.</summary>
/// <param name="ItemId">The item.</param>
/// <param name="Score">HierRec's exact score (float32, the scorer's serving transform applied).</param>
/// <param name="ProbabilityAmongCandidates">
/// softmax of the scores over the candidates fetched, not over the catalogue: P(i | u, i ∈ candidates). It is an upper
/// bound of the full-catalogue P(i|u), close to it when the candidates hold most of the probability mass (the usual
/// case for peaked models and n in the hundreds); the exact value needs the catalogue's log-sum-exp, which only a full
/// scan gives (HierarchicalRecommender.Recommend serves that in process).
/// </param>
public sealed record PgRecommendation(string ItemId, float Score, double ProbabilityAmongCandidates);

/// <summary>
/// Candidates from PostgreSQL (the HNSW index over the published item vectors, the user's history excluded in SQL),
/// re-ranked with HierRec's exact scores: a known user's vector from <see cref="HierarchicalRecommender"/>, and either
/// its exact float32 scores or any re-scorer (for dynamic items, <c>DynamicRecommender.Score</c> with the request context).
/// </summary>
public sealed class PgRecommender
{
    private readonly HierarchicalRecommender _recommender;
    private readonly PgItemStore _store;

    /// <summary>Serves <paramref name="recommender"/>'s users from <paramref name="store"/>'s published items.</summary>
    public PgRecommender(HierarchicalRecommender recommender, PgItemStore store)
    {
        _recommender = recommender ?? throw new ArgumentNullException(nameof(recommender));
        _store = store ?? throw new ArgumentNullException(nameof(store));
    }

    /// <summary>Candidates fetched per request (re-ranked down to k). Default 200.</summary>
    public int Candidates { get; init; } = 200;

    /// <summary>HNSW ef_search per request; null keeps the server's. Default 200 (at least the candidates wanted, as pgvector needs).</summary>
    public int? EfSearch { get; init; } = 200;

    /// <summary>Publishes <paramref name="recommender"/>'s catalogue (all item vectors) as a new version.</summary>
    public static Task<PgCatalogVersion> PublishAsync(PgItemStore store, HierarchicalRecommender recommender, string modelVersion,
        PgPublishOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(recommender);
        return store.PublishAsync(recommender.ItemIds, recommender.ExportItemVectors(), recommender.Dimension, modelVersion, options, cancellationToken);
    }

    /// <summary>
    /// The top <paramref name="k"/> for a known user: database candidates, exact HierRec scores (the scorer's serving
    /// transform applied, as <see cref="HierarchicalRecommender.Recommend(string, int)"/> shows them), and P(i | u, i ∈
    /// candidates) from the ranker's logits at the scorer's temperature.
    /// </summary>
    public Task<IReadOnlyList<PgRecommendation>> RecommendAsync(string userId, int k = 10, IReadOnlyCollection<string>? anyCategory = null,
        CancellationToken cancellationToken = default) =>
        Serve(userId, k, ids => _recommender.IndexScores(userId, ids), _recommender.Serving, anyCategory, cancellationToken);

    /// <summary>
    /// As <see cref="RecommendAsync(string, int, IReadOnlyCollection{string}?, CancellationToken)"/> with another
    /// re-scorer of the candidate ids, e.g. <c>ids =&gt; dynamic.Score(userId, context, ids)</c>; its scores are shown
    /// as they are and are the softmax logits (temperature 1). Candidates the model does not know (items upserted after
    /// training) keep their database score.
    /// </summary>
    public Task<IReadOnlyList<PgRecommendation>> RecommendAsync(string userId, int k, Func<IReadOnlyList<string>, float[]> rescore,
        IReadOnlyCollection<string>? anyCategory = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rescore);
        return Serve(userId, k, rescore, null, anyCategory, cancellationToken);
    }

    private async Task<IReadOnlyList<PgRecommendation>> Serve(string userId, int k, Func<IReadOnlyList<string>, float[]> logitsOf, Scoring.ServingScore? serving,
        IReadOnlyCollection<string>? anyCategory, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        var query = _recommender.UserVector(userId);
        var history = _recommender.History(userId);
        int n = Math.Max(k, Candidates);
        var candidates = await _store.SearchAsync(query, n, new PgSearchOptions
        {
            EfSearch = EfSearch is int ef ? Math.Max(ef, n) : null, ExcludeItems = history.ToArray(), AnyCategory = anyCategory,
        }, cancellationToken).ConfigureAwait(false);
        var knownIds = candidates.Where(c => _recommender.HasItem(c.ItemId)).Select(c => c.ItemId).ToArray();
        var exact = knownIds.Length == 0 ? [] : logitsOf(knownIds);
        if (exact.Length != knownIds.Length) throw new InvalidOperationException($"The re-scorer returned {exact.Length} scores for {knownIds.Length} candidates.");
        var byId = new Dictionary<string, float>(knownIds.Length, StringComparer.Ordinal);
        for (int i = 0; i < knownIds.Length; i++) byId[knownIds[i]] = exact[i];
        // The database scores ⟨x_u, row⟩ over the exported rows (unit rows for a cosine scorer): the cosine divides by |x_u|.
        float norm = System.Numerics.Tensors.TensorPrimitives.Norm(query);
        float databaseScale = serving?.Similarity == Ranking.Similarity.Cosine && norm > 0 ? 1f / norm : 1f;
        var scored = candidates.Select(c => (c.ItemId, Logit: byId.TryGetValue(c.ItemId, out float s) ? s : c.Score * databaseScale))
            .OrderByDescending(x => x.Logit).ToArray();
        if (scored.Length == 0) return [];
        double invT = 1.0 / (serving?.Temperature ?? 1f), max = scored[0].Logit, z = scored.Sum(x => Math.Exp((x.Logit - max) * invT));
        var transform = serving?.Transform;
        return scored.Take(k).Select(x => new PgRecommendation(x.ItemId, transform?.Invoke(x.Logit) ?? x.Logit, Math.Exp((x.Logit - max) * invT) / z)).ToArray();
    }
}

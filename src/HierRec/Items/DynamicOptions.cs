namespace HierRec.Items;

/// <summary>Architecture and training of the dynamic item representations. Defaults are documented per property.</summary>
public sealed record DynamicOptions
{
    /// <summary>Candidates the first stage takes from the static index for re-ranking. Default 200.</summary>
    public int Candidates { get; init; } = 200;

    /// <summary>
    /// A second candidate source beside the static index: the items new in the stream (never interacted with, or first
    /// interacted with within <see cref="NewItemWindow"/> of the latest observed interaction): half of the
    /// <see cref="NewItemCandidates"/> places to those with the most interactions within <see cref="TrendingWindow"/>,
    /// the rest to the best of them by ⟨x_u, E_i⟩ (for an item never seen, E_i comes from its text alone).
    /// Default 20; 0 turns the source off.
    /// </summary>
    public int NewItemCandidates { get; init; } = 20;

    /// <summary>
    /// Train the re-ranker on the candidates it serves: the static ones plus the new and trending items of the stream as
    /// of each training example's time. Without it the re-ranker only ever sees new items as features, never as chosen
    /// items, and learns to push them down (measured: 0 % of the new items' first interactions in the top 10). Default true.
    /// </summary>
    public bool TrainOnStreamCandidates { get; init; } = true;

    /// <summary>
    /// Places of the top k kept for new items, for the users who take them up (<see cref="NewItemPlaceAudience"/>): when
    /// fewer new items than this made the list on their score, the best-scored new candidates take the last places, and
    /// say so (<see cref="DynamicRecommendation.KeptForNewItem"/>). New items are few and rarely chosen, so on their
    /// score alone they almost never reach a top 10. Kept for every user, the place costs NDCG; kept for the users who
    /// take up new items, it gained on MovieLens-100K's validation stream (benchmarks/RESULTS.md). Default 1; 0 keeps none.
    /// </summary>
    public int NewItemPlaces { get; init; } = 1;

    /// <summary>
    /// How far below the k-th score a new candidate may be to take a kept place, in standard deviations of the
    /// candidates' scores (+∞: always). Default +∞.
    /// </summary>
    public double NewItemPlaceMargin { get; init; } = double.PositiveInfinity;
    /// <summary>
    /// Who is offered the kept places (<see cref="NewItemPlaces"/>): the users who take up new items, those whose share
    /// of interactions with an item new at the time (first interacted with within <see cref="NewItemWindow"/>) is at
    /// least this multiple of the share over every user's interactions. 0: every user. The shares are counted from the
    /// interactions observed (the base's, the first fit's, the stream's), leaving out those within the first
    /// <see cref="NewItemWindow"/> of the log, where every item looks new. Default 0.5 (chosen on MovieLens-100K's
    /// validation stream from 0.25, 0.5, 1, 2 and 4).
    /// </summary>
    public double NewItemPlaceAudience { get; init; } = 0.5;

    /// <summary>How recent a first interaction makes an item "new". Default 7 days.</summary>
    public TimeSpan NewItemWindow { get; init; } = TimeSpan.FromDays(7);

    /// <summary>
    /// A third source: the <see cref="TrendingCandidates"/> items with the most interactions within
    /// <see cref="TrendingWindow"/> of the latest observed interaction. Default 20; 0 turns it off.
    /// </summary>
    public int TrendingCandidates { get; init; } = 20;

    /// <summary>The window trending counts are taken over. Default 3 days.</summary>
    public TimeSpan TrendingWindow { get; init; } = TimeSpan.FromDays(3);

    /// <summary>Most recent history items the dynamic encoder attends to. Default 50.</summary>
    public int MaxHistory { get; init; } = 50;

    /// <summary>
    /// Give each candidate its dynamic item features at request time: how often it was interacted with in the last day,
    /// the last week and ever, how long since it first was, and whether it ever was. Default true.
    /// </summary>
    public bool UseItemDynamics { get; init; } = true;

    /// <summary>
    /// With <see cref="UseItemDynamics"/>: add a learnt bias b(f_i) of the candidate's dynamic features to its score, the
    /// same for every user (a small MLP, zero at the start): how much a new item gathering interactions fast, or an old
    /// one fading, is worth, which a dot product with the user's vector cannot express. Default true.
    /// </summary>
    public bool ItemDynamicsBias { get; init; } = true;

    /// <summary>Read the request context (time, recency, categorical fields). Default true.</summary>
    public bool UseContext { get; init; } = true;

    /// <summary>The categorical context fields; default none.</summary>
    public ContextSchema Context { get; init; } = ContextSchema.Empty;

    /// <summary>Epochs of the first fit. Default 3.</summary>
    public int Epochs { get; init; } = 3;

    /// <summary>Examples per step. Default 128.</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>Other candidates per training example, drawn from the example's static candidates. Default 63.</summary>
    public int Negatives { get; init; } = 63;

    /// <summary>AdamW learning rate of the first fit. Default 2e-3.</summary>
    public float LearningRate { get; init; } = 2e-3f;

    /// <summary>AdamW learning rate of <see cref="DynamicRecommender.Update"/>. Default 5e-4.</summary>
    public float UpdateLearningRate { get; init; } = 5e-4f;

    /// <summary>Passes over (new + replayed) examples per update. Default 1.</summary>
    public int UpdateEpochs { get; init; } = 1;

    /// <summary>Replayed older examples per new example in an update (against forgetting). Default 1.</summary>
    public double ReplayRatio { get; init; } = 1.0;

    /// <summary>Older examples kept for replay (a reservoir sample). Default 20,000.</summary>
    public int ReplayCapacity { get; init; } = 20_000;

    /// <summary>Seed. Default 1.</summary>
    public ulong Seed { get; init; } = 1;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Candidates, 2, nameof(Candidates));
        ArgumentOutOfRangeException.ThrowIfNegative(NewItemCandidates, nameof(NewItemCandidates));
        ArgumentOutOfRangeException.ThrowIfNegative(TrendingCandidates, nameof(TrendingCandidates));
        ArgumentOutOfRangeException.ThrowIfNegative(NewItemPlaces, nameof(NewItemPlaces));
        if (!(NewItemPlaceAudience >= 0) || double.IsPositiveInfinity(NewItemPlaceAudience)) throw new ArgumentOutOfRangeException(nameof(NewItemPlaceAudience), NewItemPlaceAudience, "DynamicOptions.NewItemPlaceAudience must be finite and ≥ 0 (0: every user).");
        if (!(NewItemPlaceMargin >= 0)) throw new ArgumentOutOfRangeException(nameof(NewItemPlaceMargin), NewItemPlaceMargin, "DynamicOptions.NewItemPlaceMargin must be ≥ 0 (+∞: always).");
        if (NewItemWindow < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(NewItemWindow), NewItemWindow, "DynamicOptions.NewItemWindow must not be negative.");
        if (TrendingWindow <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(TrendingWindow), TrendingWindow, "DynamicOptions.TrendingWindow must be positive.");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxHistory, nameof(MaxHistory));
        ArgumentOutOfRangeException.ThrowIfNegative(Epochs, nameof(Epochs));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(BatchSize, nameof(BatchSize));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Negatives, nameof(Negatives));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(LearningRate, nameof(LearningRate));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(UpdateLearningRate, nameof(UpdateLearningRate));
        ArgumentOutOfRangeException.ThrowIfNegative(UpdateEpochs, nameof(UpdateEpochs));
        ArgumentOutOfRangeException.ThrowIfNegative(ReplayRatio, nameof(ReplayRatio));
        ArgumentOutOfRangeException.ThrowIfNegative(ReplayCapacity, nameof(ReplayCapacity));
        ArgumentNullException.ThrowIfNull(Context, nameof(Context));
    }
}

namespace HierRec.Ranking;

/// <summary>Options of one ranking request. Defaults: temperature 1, no filter, no score threshold, automatic threads.</summary>
public sealed class RankOptions
{
    /// <summary>Softmax temperature T in P(i|u) ∝ exp(score/T), in [10⁻⁶, 10⁶]. Default 1.</summary>
    public float Temperature { get; init; } = 1f;

    /// <summary>Items the filter rejects are never returned. Default none.</summary>
    public ItemFilter? Filter { get; init; }

    /// <summary>Items scoring below this are never returned. Default none.</summary>
    public float MinScore { get; init; } = float.NegativeInfinity;

    /// <summary>Threads that scan the catalogue: 0 picks 1 for small catalogues and all cores for large ones.</summary>
    public int Threads { get; init; }

    /// <summary>
    /// For Float16 and Int8 indexes: how many approximate candidates are re-scored in float32. 0 picks
    /// max(4·k, k + 64). Larger pools raise recall against the exact ranking.
    /// </summary>
    public int RerankPool { get; init; }

    internal static readonly RankOptions Default = new();

    internal void Validate()
    {
        if (!(Temperature >= 1e-6f && Temperature <= 1e6f))
            throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, "RankOptions.Temperature must be in [1e-6, 1e6].");
        ArgumentOutOfRangeException.ThrowIfNegative(Threads, nameof(Threads));
        ArgumentOutOfRangeException.ThrowIfNegative(RerankPool, nameof(RerankPool));
        if (float.IsNaN(MinScore)) throw new ArgumentOutOfRangeException(nameof(MinScore), "MinScore must not be NaN.");
    }
}

using HierRec.Fusion;
using HierRec.Scoring;

namespace HierRec;

/// <summary>The architecture of a <see cref="HierarchicalModel"/>.</summary>
public sealed record HierarchicalOptions
{
    /// <summary>Model dimension D of users, items and layers. Default 64.</summary>
    public int Dimension { get; init; } = 64;

    /// <summary>Use the basic-information layer. Default true.</summary>
    public bool UseProfile { get; init; } = true;

    /// <summary>Use the behaviour layer. Default true.</summary>
    public bool UseBehaviour { get; init; } = true;

    /// <summary>Use the social layer (needs a friend graph). Default true.</summary>
    public bool UseSocial { get; init; } = true;

    /// <summary>Use BERT item-text vectors in the item tower. Default true.</summary>
    public bool UseText { get; init; } = true;

    /// <summary>Learn item id embeddings. Default true.</summary>
    public bool UseItemIds { get; init; } = true;

    /// <summary>Most recent history items the behaviour layer reads. Default 200.</summary>
    public int MaxHistory { get; init; } = 200;

    /// <summary>Most friends the social layer reads (a fixed random sample per user beyond that). Default 30.</summary>
    public int MaxFriends { get; init; } = 30;

    /// <summary>Add friends of friends (hop 2) to the social layer, up to <see cref="MaxFriends"/> in total. Default false.</summary>
    public bool TwoHop { get; init; }

    /// <summary>Fusion of the layers. Default attention.</summary>
    public FusionKind Fusion { get; init; } = FusionKind.Attention;

    /// <summary>
    /// Give the behaviour layer its own item embeddings for reading histories (added to the item tower's vectors), so an
    /// item's role as evidence and as a candidate can differ (as input and output weights do in autoencoders). Default true.
    /// </summary>
    public bool HistoryEmbeddings { get; init; } = true;

    /// <summary>
    /// Add a learnt embedding per known user to the behaviour layer (the collaborative part matrix factorisation has);
    /// new users get none. Default true.
    /// </summary>
    public bool UserEmbeddings { get; init; } = true;

    /// <summary>Attention heads of the behaviour and social layers. Default 2.</summary>
    public int Heads { get; init; } = 2;

    /// <summary>
    /// How users and items are scored: ⟨x_u, x_i⟩ (default), cosine / <see cref="Temperature"/>, or σ(⟨x_u, x_i⟩ + b) with b
    /// learned. Training's softmax losses read the scorer's logits; serving ranks with the matching index.
    /// </summary>
    public ScorerKind Scorer { get; init; } = ScorerKind.Dot;

    /// <summary>Temperature of the cosine scorer. Default 0.1.</summary>
    public float Temperature { get; init; } = 0.1f;

    /// <summary>Names of the enabled user layers, in fusion order.</summary>
    public IReadOnlyList<string> LayerNames =>
        [.. (UseProfile ? ["profile"] : Array.Empty<string>()), .. (UseBehaviour ? ["behaviour"] : Array.Empty<string>()), .. (UseSocial ? ["social"] : Array.Empty<string>())];

    /// <summary>Checks every option's range (called by Fit and Load).</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it and its range.</exception>
    public void Validate()
    {
        OptionChecks.Range("HierarchicalOptions.Dimension", Dimension, 1, Ranking.ItemIndex.MaxDimension);
        OptionChecks.Range("HierarchicalOptions.MaxHistory", MaxHistory, 1, 100_000);
        OptionChecks.Range("HierarchicalOptions.MaxFriends", MaxFriends, 0, 100_000);
        OptionChecks.Range("HierarchicalOptions.Heads", Heads, 1, Dimension);
        if (Dimension % Heads != 0) throw new ArgumentOutOfRangeException("HierarchicalOptions.Heads", Heads, $"HierarchicalOptions.Heads ({Heads}) must divide Dimension ({Dimension}).");
        OptionChecks.Defined("HierarchicalOptions.Fusion", Fusion);
        OptionChecks.Defined("HierarchicalOptions.Scorer", Scorer);
        OptionChecks.Range("HierarchicalOptions.Temperature", Temperature, 1e-3, 1e3);
        if (!UseProfile && !UseBehaviour && !UseSocial) throw new ArgumentException("HierarchicalOptions: at least one of UseProfile, UseBehaviour, UseSocial must be on.");
        if (!UseText && !UseItemIds) throw new ArgumentException("HierarchicalOptions: items need UseText, UseItemIds, or both.");
    }
}

namespace HierRec.Data;

/// <summary>Size and signal strengths of the synthetic dataset. Defaults make a dataset the quickstart trains in seconds.</summary>
public sealed class SyntheticOptions
{
    /// <summary>Users. Default 600.</summary>
    public int Users { get; init; } = 600;

    /// <summary>Items. Default 800.</summary>
    public int Items { get; init; } = 800;

    /// <summary>Mean interactions per user (at least 10 each). Default 30.</summary>
    public int MeanInteractions { get; init; } = 30;

    /// <summary>Friends per user drawn (edges are symmetric, so degrees end up about twice this). Default 5.</summary>
    public int FriendsPerUser { get; init; } = 5;

    /// <summary>Probability that a drawn friend shares the user's favourite category. Default 0.8.</summary>
    public double Homophily { get; init; } = 0.8;

    /// <summary>Weight of the friends' interests blended into a user's own (the social signal). Default 0.3.</summary>
    public double SocialInfluence { get; init; } = 0.3;

    /// <summary>Exponent on item popularity when sampling within a topic (0 = none). Default 0.8.</summary>
    public double PopularityBias { get; init; } = 0.8;

    /// <summary>
    /// Probability that an interaction happens in its category's quarter of the day (category c between 6c and 6c + 6
    /// o'clock, UTC): the time-of-day signal of context-aware models. Default 0 (none; the other draws are unchanged).
    /// </summary>
    public double TimeOfDaySignal { get; init; }

    /// <summary>Seed. Default 7.</summary>
    public ulong Seed { get; init; } = 7;

    /// <summary>Checks every option's range (called by Generate).</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it and its range.</exception>
    public void Validate()
    {
        OptionChecks.Range("SyntheticOptions.Users", Users, 1, 10_000_000);
        OptionChecks.Range("SyntheticOptions.Items", Items, 1, 10_000_000);
        OptionChecks.Range("SyntheticOptions.MeanInteractions", MeanInteractions, 1, Items);
        OptionChecks.Range("SyntheticOptions.FriendsPerUser", FriendsPerUser, 0, Math.Max(0, Users - 1));
        OptionChecks.Range("SyntheticOptions.Homophily", Homophily, 0, 1);
        OptionChecks.Range("SyntheticOptions.SocialInfluence", SocialInfluence, 0, 1);
        OptionChecks.Range("SyntheticOptions.PopularityBias", PopularityBias, 0, 10);
        OptionChecks.Range("SyntheticOptions.TimeOfDaySignal", TimeOfDaySignal, 0, 1);
    }
}

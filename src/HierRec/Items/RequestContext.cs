namespace HierRec.Items;

/// <summary>The context of one request.</summary>
/// <param name="Time">When the request is made (hour of day and day of week are read in its own offset), or null.</param>
/// <param name="LastInteraction">When the user last interacted, or null (a new user, or unknown).</param>
/// <param name="Fields">Categorical context given by the caller (page, device, region, …); unknown names or values are allowed.</param>
public sealed record RequestContext(DateTimeOffset? Time = null, DateTimeOffset? LastInteraction = null, IReadOnlyDictionary<string, string>? Fields = null)
{
    /// <summary>No context at all.</summary>
    public static RequestContext None { get; } = new();

    /// <summary>A context at Unix time <paramref name="seconds"/> (UTC), with the user's last interaction at <paramref name="lastSeconds"/>.</summary>
    public static RequestContext AtUnixTime(long seconds, long? lastSeconds = null, IReadOnlyDictionary<string, string>? fields = null) =>
        new(DateTimeOffset.FromUnixTimeSeconds(seconds), lastSeconds is long l ? DateTimeOffset.FromUnixTimeSeconds(l) : null, fields);
}

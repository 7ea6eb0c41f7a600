using HierRec.Data;

namespace HierRec.Users;

/// <summary>A user's basic information for the profile layer: categorical fields and numbers, by column name.</summary>
/// <param name="Categorical">Field → value (e.g. "gender" → "F"); unknown fields and values map to a learnt "unknown" vector.</param>
/// <param name="Numeric">Field → number (e.g. "age" → 29); missing or NaN numbers are flagged and zeroed.</param>
public sealed record UserProfile(IReadOnlyDictionary<string, string?> Categorical, IReadOnlyDictionary<string, float> Numeric)
{
    /// <summary>A profile with no information (every field unknown).</summary>
    public static UserProfile Empty { get; } = new(new Dictionary<string, string?>(), new Dictionary<string, float>());

    /// <summary>The profile of user <paramref name="user"/> in <paramref name="features"/>.</summary>
    public static UserProfile From(FeatureTable features, int user)
    {
        ArgumentNullException.ThrowIfNull(features);
        if ((uint)user >= (uint)features.Count) throw new ArgumentOutOfRangeException(nameof(user), user, $"The feature table has {features.Count} rows.");
        return new(features.CategoricalColumns.ToDictionary(c => c, c => features.Categorical(c)[user]),
            features.NumericColumns.ToDictionary(c => c, c => features.Numeric(c)[user]));
    }
}

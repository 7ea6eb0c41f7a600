namespace HierRec.Data;

/// <summary>One user-item event: dense ids, a value (rating, play count, 1 for implicit) and a Unix timestamp (0 if unknown).</summary>
/// <param name="User">Dense user id.</param>
/// <param name="Item">Dense item id.</param>
/// <param name="Value">Rating, weight or 1.</param>
/// <param name="Timestamp">Seconds since the Unix epoch, or 0 when the source has none.</param>
public readonly record struct Interaction(int User, int Item, float Value, long Timestamp);

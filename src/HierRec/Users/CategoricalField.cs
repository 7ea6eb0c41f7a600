namespace HierRec.Users;

/// <summary>A categorical profile field and its known values (index 0 is "unknown").</summary>
public sealed record CategoricalField(string Name, IReadOnlyList<string> Values);

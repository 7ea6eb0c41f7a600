namespace HierRec.Data;

/// <summary>Columns of a user file: the id, categorical and numeric feature columns.</summary>
public sealed record UserColumns(string User, IReadOnlyList<string>? Categorical = null, IReadOnlyList<string>? Numeric = null);

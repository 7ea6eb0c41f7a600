namespace HierRec.Data;

/// <summary>Columns of a user-user edge file; symmetric edges are added in both directions.</summary>
public sealed record EdgeColumns(string A, string B, bool Symmetric = true);

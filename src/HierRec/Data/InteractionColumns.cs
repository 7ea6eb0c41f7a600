namespace HierRec.Data;

/// <summary>
/// Columns of an interaction file. A column is named by its header or written "#n" for the 0-based index n.
/// Value and Timestamp are optional (value 1 and timestamp 0 when absent).
/// </summary>
public sealed record InteractionColumns(string User, string Item, string? Value = null, string? Timestamp = null);

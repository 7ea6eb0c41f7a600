namespace HierRec.Data;

/// <summary>Columns of an item file: the id, free-text columns and multi-valued tag columns (split on <paramref name="TagSeparator"/>).</summary>
public sealed record ItemColumns(string Item, IReadOnlyList<string> Text, IReadOnlyList<string>? Tags = null, char TagSeparator = '|');

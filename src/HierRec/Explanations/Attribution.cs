namespace HierRec.Explanations;

/// <summary>How much one input (a history item, a friend, a layer) moved a score; signed.</summary>
/// <param name="Id">External id (item or user) or layer name.</param>
/// <param name="Value">The attribution in score units (or a weight, for attention lists).</param>
public readonly record struct Attribution(string Id, double Value);

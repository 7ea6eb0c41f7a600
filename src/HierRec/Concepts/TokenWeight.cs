namespace HierRec.Concepts;

/// <summary>A description token and its attention weight in the concept vector.</summary>
public readonly record struct TokenWeight(string Token, double Weight);

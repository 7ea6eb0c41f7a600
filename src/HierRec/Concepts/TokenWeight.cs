namespace HierRec.Concepts;

/// <summary>A word of a description (as written, pieces merged) and its attention weight in the concept vector.</summary>
public readonly record struct TokenWeight(string Token, double Weight);

using System.Text.RegularExpressions;

namespace HierRec.Concepts;

/// <summary>One clause of a description.</summary>
/// <param name="Text">The clause as written.</param>
/// <param name="Content">The clause without cue and filler words: what the concept encoder reads ("" when nothing is left).</param>
/// <param name="Negative">Whether the clause says what the user does not want.</param>
public sealed record ConceptClause(string Text, string Content, bool Negative);

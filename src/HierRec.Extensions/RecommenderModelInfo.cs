namespace HierRec.Extensions;

/// <summary>What a named model is serving now.</summary>
/// <param name="Name">The model's name.</param>
/// <param name="Path">Its folder.</param>
/// <param name="Generation">1 for the first load, +1 per successful reload.</param>
/// <param name="LoadedAt">When the serving version was loaded.</param>
/// <param name="Users">Known users.</param>
/// <param name="Items">Catalogue size.</param>
/// <param name="LastError">The last failed reload's message (the previous version kept serving), or null.</param>
public sealed record RecommenderModelInfo(string Name, string Path, long Generation, DateTimeOffset LoadedAt, int Users, int Items, string? LastError);

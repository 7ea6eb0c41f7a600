namespace HierRec.Items;

/// <summary>The categorical context fields a <see cref="ContextEncoder"/> knows, with the values seen in training.</summary>
/// <param name="Fields">Field name → known values (any order; index 0 is reserved for "unknown").</param>
public sealed record ContextSchema(IReadOnlyDictionary<string, IReadOnlyList<string>> Fields)
{
    /// <summary>No categorical fields.</summary>
    public static ContextSchema Empty { get; } = new(new Dictionary<string, IReadOnlyList<string>>());
}

using System.Text.RegularExpressions;

namespace HierRec.PostgreSql;

/// <summary>
/// A table-name prefix chosen by the application (never by a request): lower-case letters, digits and '_', starting
/// with a letter, at most 40 characters, so that every derived name is a valid unquoted identifier. Ids, vectors and
/// user text always travel as query parameters; this is the only text placed in SQL, and it is checked here.
/// </summary>
internal static partial class PgIdentifier
{
    [GeneratedRegex("^[a-z][a-z0-9_]{0,39}$")]
    private static partial Regex Valid();

    public static string Check(string name, string parameter)
    {
        ArgumentException.ThrowIfNullOrEmpty(name, parameter);
        if (!Valid().IsMatch(name))
            throw new ArgumentException($"'{name}' is not a valid HierRec table prefix: use 1–40 lower-case letters, digits and '_', starting with a letter.", parameter);
        return name;
    }

    /// <summary>A schema-qualified table name "schema.table" or "table", each part checked.</summary>
    public static string CheckQualified(string name, string parameter)
    {
        ArgumentException.ThrowIfNullOrEmpty(name, parameter);
        var parts = name.Split('.');
        if (parts.Length > 2) throw new ArgumentException($"'{name}' is not a table name (schema.table at most).", parameter);
        foreach (var part in parts) Check(part, parameter);
        return name;
    }
}

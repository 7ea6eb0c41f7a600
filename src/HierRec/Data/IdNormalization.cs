namespace HierRec.Data;

/// <summary>How the loaders compare user and item ids read from files and tables. Chosen explicitly: HierRec never guesses.</summary>
public enum IdNormalization
{
    /// <summary>Ids are compared exactly as written: "01", "1" and " 1" are three different ids (the default).</summary>
    Exact,

    /// <summary>Leading and trailing white space is removed; otherwise exact.</summary>
    TrimWhitespace,

    /// <summary>
    /// White space is trimmed, and ids that are integers are compared by value in their canonical decimal form ("01",
    /// "+1" and "1" are one id, "1"); other ids stay as trimmed.
    /// </summary>
    IntegerValue,
}

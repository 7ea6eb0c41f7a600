namespace HierRec.PostgreSql;

/// <summary>A PostgreSQL operation of HierRec failed; the message says which, on which table prefix, and after how many attempts.</summary>
public sealed class PgStoreException(string message, Exception? inner = null) : Exception(message, inner);

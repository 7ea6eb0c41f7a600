namespace HierRec.PostgreSql;

/// <summary>How item vectors are stored in PostgreSQL.</summary>
public enum PgVectorStorage
{
    /// <summary>pgvector's <c>vector</c>: float32, exact.</summary>
    Vector,

    /// <summary>pgvector's <c>halfvec</c>: float16, half the storage; HierRec re-scores candidates in float32.</summary>
    HalfVec,
}

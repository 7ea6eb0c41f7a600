namespace HierRec.Ranking;

/// <summary>How item vectors are stored and scanned.</summary>
public enum VectorPrecision
{
    /// <summary>4 bytes a value; exact.</summary>
    Float32,

    /// <summary>2 bytes a value; the top candidates are re-ranked in float32.</summary>
    Float16,

    /// <summary>1 byte a value with a per-item scale; the top candidates are re-ranked in float32.</summary>
    Int8,
}

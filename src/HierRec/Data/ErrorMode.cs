namespace HierRec.Data;

/// <summary>How loaders treat malformed lines.</summary>
public enum ErrorMode
{
    /// <summary>The first malformed line throws <see cref="DataFormatException"/>; nothing is returned half-loaded.</summary>
    Strict,

    /// <summary>Malformed lines are skipped, counted and reported in <see cref="LoadReport"/>.</summary>
    Lenient,
}

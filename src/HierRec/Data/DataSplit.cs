namespace HierRec.Data;

/// <summary>Train, validation and test interactions over the same users and items.</summary>
/// <param name="Train">Training interactions.</param>
/// <param name="Validation">Validation interactions (model selection only).</param>
/// <param name="Test">Test interactions (reported once, never tuned on).</param>
public sealed record DataSplit(Dataset Train, Dataset Validation, Dataset Test);

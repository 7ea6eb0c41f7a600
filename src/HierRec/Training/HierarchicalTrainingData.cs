using HierRec.Data;
using HierRec.Users;

namespace HierRec.Training;

/// <summary>Training and validation data of the hierarchical model.</summary>
/// <param name="Train">Training interactions (also what the user context is built from).</param>
/// <param name="Validation">Validation interactions (early stopping), or null to train all epochs.</param>
/// <param name="Context">Profiles, histories and neighbourhoods built from <paramref name="Train"/>.</param>
public sealed record HierarchicalTrainingData(Dataset Train, Dataset? Validation, UserContext Context);

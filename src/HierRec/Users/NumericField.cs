namespace HierRec.Users;

/// <summary>A numeric profile field and the training mean and standard deviation used to standardise it.</summary>
public sealed record NumericField(string Name, float Mean, float Std);

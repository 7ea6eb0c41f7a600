namespace HierRec.Users;

/// <summary>A categorical profile field and its known values (index 0 is "unknown").</summary>
public sealed record CategoricalField(string Name, IReadOnlyList<string> Values);

/// <summary>A numeric profile field and the training mean and standard deviation used to standardise it.</summary>
public sealed record NumericField(string Name, float Mean, float Std);

/// <summary>The shape of a <see cref="ProfileEncoder"/> besides its parameters (saved as JSON with a model).</summary>
public sealed record ProfileSchema(int Dimension, int FieldDimension, IReadOnlyList<CategoricalField> Categorical, IReadOnlyList<NumericField> Numeric);

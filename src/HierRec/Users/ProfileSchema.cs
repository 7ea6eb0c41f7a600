namespace HierRec.Users;

/// <summary>The shape of a <see cref="ProfileEncoder"/> besides its parameters (saved as JSON with a model).</summary>
public sealed record ProfileSchema(int Dimension, int FieldDimension, IReadOnlyList<CategoricalField> Categorical, IReadOnlyList<NumericField> Numeric);

using HierRec.Data;
using HierRec.Tensors;
using HierRec.Tensors.Layers;

namespace HierRec.Users;

/// <summary>A user's basic information for the profile layer: categorical fields and numbers, by column name.</summary>
/// <param name="Categorical">Field → value (e.g. "gender" → "F"); unknown fields and values map to a learnt "unknown" vector.</param>
/// <param name="Numeric">Field → number (e.g. "age" → 29); missing or NaN numbers are flagged and zeroed.</param>
public sealed record UserProfile(IReadOnlyDictionary<string, string?> Categorical, IReadOnlyDictionary<string, float> Numeric)
{
    /// <summary>A profile with no information (every field unknown).</summary>
    public static UserProfile Empty { get; } = new(new Dictionary<string, string?>(), new Dictionary<string, float>());

    /// <summary>The profile of user <paramref name="user"/> in <paramref name="features"/>.</summary>
    public static UserProfile From(FeatureTable features, int user)
    {
        ArgumentNullException.ThrowIfNull(features);
        return new(features.CategoricalColumns.ToDictionary(c => c, c => features.Categorical(c)[user]),
            features.NumericColumns.ToDictionary(c => c, c => features.Numeric(c)[user]));
    }
}

/// <summary>A categorical profile field and its known values (index 0 is "unknown").</summary>
public sealed record CategoricalField(string Name, IReadOnlyList<string> Values);

/// <summary>A numeric profile field and the training mean and standard deviation used to standardise it.</summary>
public sealed record NumericField(string Name, float Mean, float Std);

/// <summary>The shape of a <see cref="ProfileEncoder"/> besides its parameters (saved as JSON with a model).</summary>
public sealed record ProfileSchema(int Dimension, int FieldDimension, IReadOnlyList<CategoricalField> Categorical, IReadOnlyList<NumericField> Numeric);

/// <summary>
/// The basic-information layer: one embedding per categorical field (value vocabularies built from the training users,
/// values seen fewer than <c>minCount</c> times and unseen values share index 0, "unknown"), standardised numeric fields with
/// a missing flag each, concatenated and passed through a two-layer GELU MLP to the model dimension.
/// </summary>
public sealed class ProfileEncoder : Module, IEncoder<UserProfile>
{
    private readonly string[] _categorical;
    private readonly Dictionary<string, int>[] _vocab;
    private readonly string[] _numeric;
    private readonly float[] _mean, _std;
    private readonly Embedding[] _embeddings;

    /// <summary>Builds vocabularies and statistics from <paramref name="users"/>' rows of <paramref name="features"/>.</summary>
    public ProfileEncoder(FeatureTable features, IEnumerable<int> users, int dimension, Rng rng, int fieldDimension = 16, int minCount = 2)
        : this(Describe(features, users, dimension, fieldDimension, minCount), rng)
    {
    }

    /// <summary>Recreates an encoder from its <see cref="Schema"/> (parameters are then loaded from a checkpoint).</summary>
    public ProfileEncoder(ProfileSchema schema, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(rng);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(schema.Dimension);
        Schema = schema;
        int dimension = schema.Dimension, fieldDimension = schema.FieldDimension;
        _categorical = schema.Categorical.Select(c => c.Name).ToArray();
        _numeric = schema.Numeric.Select(n => n.Name).ToArray();
        _vocab = new Dictionary<string, int>[_categorical.Length];
        _embeddings = new Embedding[_categorical.Length];
        for (int c = 0; c < _categorical.Length; c++)
        {
            var values = schema.Categorical[c].Values;
            _vocab[c] = values.Select((v, i) => (v, i + 1)).ToDictionary(p => p.v, p => p.Item2, StringComparer.Ordinal);
            _embeddings[c] = RegisterModule("field_" + c, new Embedding(values.Count + 1, fieldDimension, rng, 0.1f));
        }
        _mean = schema.Numeric.Select(n => n.Mean).ToArray();
        _std = schema.Numeric.Select(n => n.Std).ToArray();
        int input = _categorical.Length * fieldDimension + 2 * _numeric.Length;
        if (input == 0) input = 1; // no side information at all: a constant input, the layer learns a bias vector
        InputWidth = input;
        Hidden = RegisterModule("hidden", new Linear(input, 2 * dimension, rng));
        Output = RegisterModule("output", new Linear(2 * dimension, dimension, rng));
        Dimension = dimension;
    }

    /// <inheritdoc/>
    public int Dimension { get; }

    /// <summary>Fields, vocabularies and statistics: everything besides the parameters needed to rebuild the encoder.</summary>
    public ProfileSchema Schema { get; }

    private static ProfileSchema Describe(FeatureTable features, IEnumerable<int> users, int dimension, int fieldDimension, int minCount)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(users);
        var rows = users.ToArray();
        var categorical = features.CategoricalColumns.Order(StringComparer.Ordinal).Select(name =>
        {
            var column = features.Categorical(name);
            var values = rows.Select(u => column[u]).Where(v => v is not null).GroupBy(v => v!).Where(g => g.Count() >= minCount)
                .Select(g => g.Key).Order(StringComparer.Ordinal).ToArray();
            return new CategoricalField(name, values);
        }).ToArray();
        var numeric = features.NumericColumns.Order(StringComparer.Ordinal).Select(name =>
        {
            var values = rows.Select(u => features.Numeric(name)[u]).Where(float.IsFinite).ToArray();
            float mean = values.Length == 0 ? 0f : values.Average();
            float std = values.Length < 2 ? 1f : MathF.Max(1e-6f, MathF.Sqrt(values.Select(v => (v - mean) * (v - mean)).Average()));
            return new NumericField(name, mean, std);
        }).ToArray();
        return new ProfileSchema(dimension, fieldDimension, categorical, numeric);
    }

    /// <summary>Width of the concatenated field vector.</summary>
    public int InputWidth { get; }

    /// <summary>First MLP layer.</summary>
    public Linear Hidden { get; }

    /// <summary>Second MLP layer.</summary>
    public Linear Output { get; }

    /// <summary>The categorical fields, in order.</summary>
    public IReadOnlyList<string> CategoricalFields => _categorical;

    /// <summary>The numeric fields, in order.</summary>
    public IReadOnlyList<string> NumericFields => _numeric;

    /// <inheritdoc/>
    public Tensor Encode(IReadOnlyList<UserProfile> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        int b = inputs.Count;
        var parts = new List<Tensor>();
        for (int c = 0; c < _categorical.Length; c++)
        {
            var ids = new int[b];
            for (int r = 0; r < b; r++)
                ids[r] = inputs[r].Categorical.TryGetValue(_categorical[c], out var v) && v is not null && _vocab[c].TryGetValue(v, out int id) ? id : 0;
            parts.Add(_embeddings[c].Forward(ids, b));
        }
        if (_numeric.Length > 0)
        {
            var numbers = new Tensor(b, 2 * _numeric.Length);
            for (int r = 0; r < b; r++)
                for (int n = 0; n < _numeric.Length; n++)
                {
                    bool has = inputs[r].Numeric.TryGetValue(_numeric[n], out float v) && float.IsFinite(v);
                    numbers[r, 2 * n] = has ? (v - _mean[n]) / _std[n] : 0f;
                    numbers[r, 2 * n + 1] = has ? 0f : 1f;
                }
            parts.Add(numbers);
        }
        if (parts.Count == 0) parts.Add(Tensor.Full(1f, b, 1));
        var x = parts.Count == 1 ? parts[0] : Ops.Concat(parts, 1);
        return Output.Forward(Ops.Gelu(Hidden.Forward(x)));
    }
}

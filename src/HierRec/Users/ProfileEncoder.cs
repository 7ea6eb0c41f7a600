using HierRec.Data;
using HierRec.Modules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HierRec.Users;

/// <summary>
/// The basic-information layer: one embedding per categorical field (value vocabularies built from the training users,
/// values seen fewer than <c>minCount</c> times and unseen values share index 0, "unknown"), standardised numeric fields with
/// a missing flag each, concatenated and passed through a two-layer GELU MLP to the model dimension.
/// </summary>
public sealed class ProfileEncoder : nn.Module<IReadOnlyList<UserProfile>, Tensor>, IEncoder<UserProfile>
{
    /// <summary>Registers nothing by reflection: the constructor registers every component by name (<see cref="Training.TorchCheckpoint.State"/> says why).</summary>
    protected override void RegisterComponents() { }

    private readonly string[] _categorical;
    private readonly Dictionary<string, int>[] _vocab;
    private readonly string[] _numeric;
    private readonly float[] _mean, _std;
    private readonly Embedding[] _embeddings;

    /// <summary>Builds vocabularies and statistics from <paramref name="users"/>' rows of <paramref name="features"/>.</summary>
    public ProfileEncoder(FeatureTable features, IEnumerable<int> users, int dimension, Generator generator, int fieldDimension = 16, int minCount = 2)
        : this(Describe(features, users, dimension, fieldDimension, minCount), generator)
    {
    }

    /// <summary>Recreates an encoder from its <see cref="Schema"/> (parameters are then loaded from a checkpoint).</summary>
    public ProfileEncoder(ProfileSchema schema, Generator generator) : base(nameof(ProfileEncoder))
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(generator);
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
            _embeddings[c] = Layers.Embedding(values.Count + 1, fieldDimension, 0.1, generator);
            register_module("field_" + c, _embeddings[c]);
        }
        _mean = schema.Numeric.Select(n => n.Mean).ToArray();
        _std = schema.Numeric.Select(n => n.Std).ToArray();
        int input = _categorical.Length * fieldDimension + 2 * _numeric.Length;
        if (input == 0) input = 1; // no side information at all: a constant input, the layer learns a bias vector
        InputWidth = input;
        Hidden = Layers.Linear(input, 2 * dimension, generator);
        Output = Layers.Linear(2 * dimension, dimension, generator);
        register_module("hidden", Hidden);
        register_module("output", Output);
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

    /// <summary>
    /// Standardised numeric inputs are clamped to [−5, 5] (five training standard deviations): the documented rule for
    /// values outside a field's trained range, in training and serving alike.
    /// </summary>
    public const float ClampSigma = 5f;

    /// <inheritdoc/>
    public Tensor Encode(IReadOnlyList<UserProfile> inputs) => forward(inputs);

    /// <inheritdoc/>
    public override Tensor forward(IReadOnlyList<UserProfile> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        int b = inputs.Count;
        var device = Layers.DeviceOf(this);
        using var scope = torch.NewDisposeScope();
        var parts = new List<Tensor>();
        for (int c = 0; c < _categorical.Length; c++)
        {
            var ids = new long[b];
            for (int r = 0; r < b; r++)
            {
                var profile = inputs[r] ?? throw new ArgumentException($"Profile {r} is null.", nameof(inputs));
                ids[r] = profile.Categorical.TryGetValue(_categorical[c], out var v) && v is not null && _vocab[c].TryGetValue(v, out int id) ? id : 0;
            }
            parts.Add(_embeddings[c].forward(torch.tensor(ids, device: device)));
        }
        if (_numeric.Length > 0)
        {
            var numbers = new float[b * 2 * _numeric.Length];
            for (int r = 0; r < b; r++)
                for (int n = 0; n < _numeric.Length; n++)
                {
                    bool has = inputs[r].Numeric.TryGetValue(_numeric[n], out float v) && float.IsFinite(v);
                    // Standardised, then clamped to ±ClampSigma: a value far outside the training range (an age of 10³⁰)
                    // counts as an extreme value of the field, not as a vector that dominates every score.
                    numbers[(r * _numeric.Length + n) * 2] = has ? Math.Clamp((v - _mean[n]) / _std[n], -ClampSigma, ClampSigma) : 0f;
                    numbers[(r * _numeric.Length + n) * 2 + 1] = has ? 0f : 1f;
                }
            parts.Add(torch.tensor(numbers, [b, 2 * _numeric.Length], device: device));
        }
        if (parts.Count == 0) parts.Add(torch.ones(b, 1, device: device));
        var x = parts.Count == 1 ? parts[0] : torch.cat(parts, 1);
        return Output.forward(nn.functional.gelu(Hidden.forward(x))).MoveToOuterDisposeScope();
    }
}

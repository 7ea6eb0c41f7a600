using HierRec.Tensors;
using HierRec.Tensors.Layers;

namespace HierRec.Items;

/// <summary>The context of one request.</summary>
/// <param name="Time">When the request is made (hour of day and day of week are read in its own offset), or null.</param>
/// <param name="LastInteraction">When the user last interacted, or null (a new user, or unknown).</param>
/// <param name="Fields">Categorical context given by the caller (page, device, region, …); unknown names or values are allowed.</param>
public sealed record RequestContext(DateTimeOffset? Time = null, DateTimeOffset? LastInteraction = null, IReadOnlyDictionary<string, string>? Fields = null)
{
    /// <summary>No context at all.</summary>
    public static RequestContext None { get; } = new();

    /// <summary>A context at Unix time <paramref name="seconds"/> (UTC), with the user's last interaction at <paramref name="lastSeconds"/>.</summary>
    public static RequestContext AtUnixTime(long seconds, long? lastSeconds = null, IReadOnlyDictionary<string, string>? fields = null) =>
        new(DateTimeOffset.FromUnixTimeSeconds(seconds), lastSeconds is long l ? DateTimeOffset.FromUnixTimeSeconds(l) : null, fields);
}

/// <summary>The categorical context fields a <see cref="ContextEncoder"/> knows, with the values seen in training.</summary>
/// <param name="Fields">Field name → known values (any order; index 0 is reserved for "unknown").</param>
public sealed record ContextSchema(IReadOnlyDictionary<string, IReadOnlyList<string>> Fields)
{
    /// <summary>No categorical fields.</summary>
    public static ContextSchema Empty { get; } = new(new Dictionary<string, IReadOnlyList<string>>());
}

/// <summary>
/// Encodes request contexts into (B, D) vectors: cyclic time features (sin and cos of the hour of day and of the day of
/// week), the time since the user's last interaction (log of hours), presence flags, through a linear layer; plus a
/// learnt embedding per categorical field. Values never seen in training, and fields missing from a request, map to
/// the field's learnt "unknown" vector; serving never throws on them.
/// </summary>
/// <remarks>Concurrent inference in no-grad scopes and eval mode is safe.</remarks>
public sealed class ContextEncoder : Module
{
    /// <summary>Numeric features per request.</summary>
    public const int NumericFeatures = 7;

    private readonly (string Name, Dictionary<string, int> Index, Embedding Table)[] _fields;

    /// <summary>Creates the encoder.</summary>
    public ContextEncoder(int dimension, ContextSchema schema, Rng rng)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(rng);
        Dimension = dimension;
        Schema = schema;
        Numeric = RegisterModule("numeric", new Linear(NumericFeatures, dimension, rng));
        _fields = schema.Fields.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f =>
        {
            var index = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var v in f.Value.Distinct()) index[v] = index.Count + 1; // 0 = unknown
            return (f.Key, index, RegisterModule("field." + f.Key, new Embedding(index.Count + 1, dimension, rng, 0.02f)));
        }).ToArray();
    }

    /// <summary>D.</summary>
    public int Dimension { get; }

    /// <summary>The categorical fields.</summary>
    public ContextSchema Schema { get; }

    /// <summary>The linear layer over the numeric features.</summary>
    public Linear Numeric { get; }

    /// <summary>The numeric features of a context: sin/cos hour, sin/cos weekday, log(1 + hours since last)/5, has-time, has-last.</summary>
    public static float[] Features(RequestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var f = new float[NumericFeatures];
        if (context.Time is { } time)
        {
            double hour = time.Hour + time.Minute / 60.0, day = (int)time.DayOfWeek + hour / 24;
            f[0] = (float)Math.Sin(2 * Math.PI * hour / 24);
            f[1] = (float)Math.Cos(2 * Math.PI * hour / 24);
            f[2] = (float)Math.Sin(2 * Math.PI * day / 7);
            f[3] = (float)Math.Cos(2 * Math.PI * day / 7);
            f[5] = 1;
            if (context.LastInteraction is { } last)
            {
                f[4] = (float)(Math.Log(1 + Math.Max(0, (time - last).TotalHours)) / 5);
                f[6] = 1;
            }
        }
        return f;
    }

    /// <summary>Encodes a batch of contexts into (B, D).</summary>
    public Tensor Encode(IReadOnlyList<RequestContext> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        int b = inputs.Count;
        var numeric = new Tensor(b, NumericFeatures);
        for (int r = 0; r < b; r++) Features(inputs[r] ?? RequestContext.None).CopyTo(numeric.Data.Slice(r * NumericFeatures, NumericFeatures));
        var result = Numeric.Forward(numeric);
        foreach (var (name, index, table) in _fields)
        {
            var ids = new int[b];
            for (int r = 0; r < b; r++)
                ids[r] = inputs[r]?.Fields is { } fields && fields.TryGetValue(name, out var v) && v is not null && index.TryGetValue(v, out int id) ? id : 0;
            result = result + table.Forward(ids, b);
        }
        return result;
    }
}

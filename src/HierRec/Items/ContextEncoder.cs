using HierRec.Modules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HierRec.Items;

/// <summary>
/// Encodes request contexts into (B, D) vectors: cyclic time features (sin and cos of the hour of day and of the day of
/// week), the time since the user's last interaction (log of hours), presence flags, through a linear layer; plus a
/// learnt embedding per categorical field. Values never seen in training, and fields missing from a request, map to
/// the field's learnt "unknown" vector; serving never throws on them.
/// </summary>
/// <remarks>Concurrent inference in eval mode under no_grad is safe.</remarks>
public sealed class ContextEncoder : nn.Module, IEncoder<RequestContext>
{
    /// <summary>Registers nothing by reflection: the constructor registers every component by name (<see cref="Training.TorchCheckpoint.State"/> says why).</summary>
    protected override void RegisterComponents() { }

    /// <summary>Numeric features per request.</summary>
    public const int NumericFeatures = 7;

    private readonly (string Name, Dictionary<string, int> Index, Embedding Table)[] _fields;

    /// <summary>Creates the encoder.</summary>
    public ContextEncoder(int dimension, ContextSchema schema, Generator generator) : base(nameof(ContextEncoder))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(generator);
        Dimension = dimension;
        Schema = schema;
        Numeric = Layers.Linear(NumericFeatures, dimension, generator);
        register_module("numeric", Numeric);
        // Field names are the caller's (they may contain dots, which module names may not): modules are named by position
        // in ordinal order of the names, which the saved schema fixes.
        _fields = schema.Fields.OrderBy(f => f.Key, StringComparer.Ordinal).Select((f, position) =>
        {
            var index = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var v in f.Value.Distinct()) index[v] = index.Count + 1; // 0 = unknown
            var table = Layers.Embedding(index.Count + 1, dimension, 0.02, generator);
            register_module("field_" + position.ToString(System.Globalization.CultureInfo.InvariantCulture), table);
            return (f.Key, index, table);
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
        var device = Layers.DeviceOf(this);
        using var scope = torch.NewDisposeScope();
        var numeric = new float[b * NumericFeatures];
        for (int r = 0; r < b; r++) Features(inputs[r] ?? RequestContext.None).CopyTo(numeric, r * NumericFeatures);
        var result = Numeric.forward(torch.tensor(numeric, [b, NumericFeatures], device: device).to_type(Numeric.weight!.dtype));
        foreach (var (name, index, table) in _fields)
        {
            var ids = new long[b];
            for (int r = 0; r < b; r++)
                ids[r] = inputs[r]?.Fields is { } fields && fields.TryGetValue(name, out var v) && v is not null && index.TryGetValue(v, out int id) ? id : 0;
            result = result.Plus(table.forward(torch.tensor(ids, device: device)));
        }
        return result.MoveToOuterDisposeScope();
    }
}

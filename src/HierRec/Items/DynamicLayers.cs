using TorchSharp;
using static TorchSharp.torch;

namespace HierRec.Items;

/// <summary>The dynamic layers one snapshot serves: the item encoder (<c>items.*</c>) and the context encoder (<c>context.*</c>), as one module.</summary>
internal sealed class DynamicLayers : nn.Module
{
    /// <summary>Registers nothing by reflection: the constructor registers every component by name (<see cref="Training.TorchCheckpoint.State"/> says why).</summary>
    protected override void RegisterComponents() { }

    public DynamicLayers(DynamicItemEncoder items, ContextEncoder? context) : base(nameof(DynamicLayers))
    {
        Items = items;
        Context = context;
        register_module("items", items);
        if (context is not null) register_module("context", context);
    }

    public DynamicItemEncoder Items { get; }

    public ContextEncoder? Context { get; }

    /// <summary>Fresh layers of the given shape, initialised from <paramref name="seed"/>.</summary>
    public static DynamicLayers Create(int dimension, DynamicOptions options, ContextSchema schema, ulong seed, Device device)
    {
        using var generator = new Generator(seed);
        var items = new DynamicItemEncoder(dimension, options.MaxHistory, generator, itemFeatures: options.UseItemDynamics ? DynamicRecommender.ItemFeatureCount : 0,
            featureBias: options.UseItemDynamics && options.ItemDynamicsBias);
        var context = options.UseContext ? new ContextEncoder(dimension, schema, generator) : null;
        var layers = new DynamicLayers(items, context);
        if (device.type != DeviceType.CPU) layers.to(device); // where the base's item vectors are
        return layers;
    }
}

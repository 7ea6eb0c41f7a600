using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HierRec.Modules;

/// <summary>
/// Layers of the recommender modules created with a seeded generator, so a model built twice with the same seed has
/// the same weights whatever else used torch's global generator in between.
/// </summary>
public static class Layers
{
    /// <summary>A linear layer with PyTorch's default initialisation U(±1/√in) for weight and bias.</summary>
    public static Linear Linear(long inFeatures, long outFeatures, Generator generator, bool bias = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inFeatures);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outFeatures);
        ArgumentNullException.ThrowIfNull(generator);
        var layer = nn.Linear(inFeatures, outFeatures, hasBias: bias);
        double bound = 1 / Math.Sqrt(inFeatures);
        using (torch.NewDisposeScope()) // the getters' fresh wrappers die here, not on the finalizer thread mid-call
        using (torch.no_grad())
        {
            layer.weight!.uniform_(-bound, bound, generator);
            if (layer.bias is not null) layer.bias.uniform_(-bound, bound, generator);
        }
        return layer;
    }

    /// <summary>An embedding table initialised N(0, <paramref name="std"/>).</summary>
    public static Embedding Embedding(long count, long dimension, double std, Generator generator)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        ArgumentNullException.ThrowIfNull(generator);
        var table = nn.Embedding(count, dimension);
        using (torch.NewDisposeScope()) // the getter's fresh wrapper dies here, not on the finalizer thread mid-call
        using (torch.no_grad()) table.weight!.normal_(0, std, generator);
        return table;
    }

    /// <summary>A parameter of shape <paramref name="shape"/> drawn from N(0, <paramref name="std"/>).</summary>
    public static Parameter Normal(double std, Generator generator, params long[] shape)
    {
        var p = new Parameter(torch.empty(shape));
        using (torch.no_grad()) p.normal_(0, std, generator);
        return p;
    }

    /// <summary>The device of a module's first parameter (CPU for a module without parameters).</summary>
    public static Device DeviceOf(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        using var scope = torch.NewDisposeScope(); // parameters() hands out fresh wrappers: they die here, not on the finalizer thread mid-call
        foreach (var p in module.parameters()) return p.device;
        return torch.CPU;
    }
}

using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HierRec.Training;

/// <summary>The optimizer HierRec trains with, set up one way everywhere.</summary>
public static class Optimizers
{
    /// <summary>
    /// AdamW (β = 0.9, 0.999, ε = 1e-8) over the parameters that require gradients, with decoupled weight decay on
    /// matrices and none on vectors (biases, LayerNorm, learnt queries), as BERT was trained.
    /// </summary>
    public static AdamW AdamW(IEnumerable<(string Name, Parameter Parameter)> parameters, double learningRate, double weightDecay = 0.01)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var decay = new List<Parameter>();
        var plain = new List<Parameter>();
        foreach (var (name, p) in parameters)
        {
            if (!p.requires_grad) continue;
            (Decays(name, p) ? decay : plain).Add(p);
        }
        var groups = new List<AdamW.ParamGroup>();
        if (decay.Count > 0) groups.Add(new AdamW.ParamGroup(decay, new AdamW.Options { LearningRate = learningRate, weight_decay = weightDecay }));
        if (plain.Count > 0) groups.Add(new AdamW.ParamGroup(plain, new AdamW.Options { LearningRate = learningRate, weight_decay = 0 }));
        if (groups.Count == 0) throw new ArgumentException("No parameter requires a gradient; nothing would train.", nameof(parameters));
        return torch.optim.AdamW(groups, learningRate, weight_decay: weightDecay);
    }

    /// <summary>Whether a parameter gets weight decay: matrices yes; biases, LayerNorm and learnt vectors no.</summary>
    public static bool Decays(string name, Tensor parameter) => parameter.dim() >= 2 && !name.EndsWith("bias", StringComparison.Ordinal);

    /// <summary>Sets every group's learning rate.</summary>
    public static void SetLearningRate(this AdamW optimizer, double rate)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        foreach (var g in optimizer.ParamGroups) g.LearningRate = rate;
    }
}

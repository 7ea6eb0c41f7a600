using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HierRec.Training;

/// <summary>
/// The optimizer the training loop drives: <see cref="FusedAdamW"/> when every trainable parameter is a contiguous CPU
/// float32 tensor, TorchSharp's AdamW otherwise (a GPU, another dtype). Both follow PyTorch's AdamW, with decoupled
/// weight decay on matrices and none on vectors.
/// </summary>
internal sealed class LoopOptimizer : IDisposable
{
    private readonly FusedAdamW? _fused;
    private readonly AdamW? _torch;

    public LoopOptimizer(IEnumerable<(string Name, Parameter Parameter)> parameters, double learningRate, double weightDecay)
    {
        var list = parameters.Where(p => p.Parameter.requires_grad).ToList();
        if (list.Count == 0) throw new ArgumentException("No parameter requires a gradient; nothing would train.", nameof(parameters));
        if (list.All(p => FusedAdamW.Supports(p.Parameter)))
            _fused = new FusedAdamW(list.Select(p => (p.Parameter, Optimizers.Decays(p.Name, p.Parameter) ? weightDecay : 0.0)), learningRate);
        else
            _torch = Optimizers.AdamW(list, learningRate, weightDecay);
    }

    public bool IsFused => _fused is not null;

    public void SetLearningRate(double rate)
    {
        if (_fused is not null) _fused.LearningRate = rate;
        else _torch!.SetLearningRate(rate);
    }

    public void ZeroGrad()
    {
        if (_fused is not null) _fused.ZeroGrad();
        else _torch!.zero_grad();
    }

    public void Step()
    {
        if (_fused is not null) _fused.Step();
        else _torch!.step();
    }

    public void Save(BinaryWriter writer)
    {
        writer.Write(IsFused);
        if (_fused is not null) _fused.Save(writer);
        else _torch!.save_state_dict(writer);
    }

    public void Load(BinaryReader reader, string source)
    {
        bool fused = reader.ReadBoolean();
        if (fused != IsFused)
            throw new InvalidDataException($"{source}: the state is of {(fused ? "HierRec's fused" : "TorchSharp's")} AdamW; this run uses the other (the parameters moved to another device or dtype).");
        if (_fused is not null) _fused.Load(reader, source);
        else _torch!.load_state_dict(reader);
    }

    public void Dispose()
    {
        _fused?.Dispose();
        _torch?.Dispose();
    }
}

using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HierRec.Text;

/// <summary>
/// A linear layer y = x Wᵀ + b (<c>weight</c> (out, in), <c>bias</c> (out), Hugging Face's names) that can carry a
/// LoRA adapter (Hu et al., 2021): y = x Wᵀ + b + α/r · (x Aᵀ) Bᵀ with <c>lora_A</c> (r, in) Kaiming-uniform and
/// <c>lora_B</c> (out, r) zero, so a new adapter leaves the output unchanged.
/// </summary>
public sealed class LoraLinear : nn.Module<Tensor, Tensor>
{
    /// <summary>Registers nothing by reflection: the constructor registers every component by name (<see cref="Training.TorchCheckpoint.State"/> says why).</summary>
    protected override void RegisterComponents() { }

    /// <summary>Creates the layer with N(0, <paramref name="initStd"/>) weights and a zero bias (BERT's initialisation).</summary>
    public LoraLinear(long inFeatures, long outFeatures, double initStd, Generator? generator = null) : base(nameof(LoraLinear))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inFeatures);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outFeatures);
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        var weight = torch.empty(outFeatures, inFeatures);
        using (torch.no_grad()) weight.normal_(0, initStd, generator);
        register_parameter("weight", new Parameter(weight));
        register_parameter("bias", new Parameter(torch.zeros(outFeatures)));
    }

    /// <summary>Input width.</summary>
    public long InFeatures { get; }

    /// <summary>Output width.</summary>
    public long OutFeatures { get; }

    // Parameters are looked up by name, not cached: Module.to(device) replaces them.

    /// <summary>(out, in) weight.</summary>
    public Parameter Weight => get_parameter("weight")!;

    /// <summary>(out) bias.</summary>
    public Parameter Bias => get_parameter("bias")!;

    /// <summary>(r, in) adapter down-projection, or null.</summary>
    public Parameter? LoraA => get_parameter("lora_A");

    /// <summary>(out, r) adapter up-projection, or null.</summary>
    public Parameter? LoraB => get_parameter("lora_B");

    /// <summary>α / r of the attached adapter (0 without one).</summary>
    public double LoraScale { get; private set; }

    /// <summary>Whether an adapter is attached.</summary>
    public bool HasLora => LoraA is not null;

    /// <summary>Attaches an adapter of rank <paramref name="rank"/> and scale α/r, on the weight's device.</summary>
    /// <exception cref="InvalidOperationException">An adapter is already attached.</exception>
    public void AddLora(int rank, double alpha, Generator? generator = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rank);
        if (HasLora) throw new InvalidOperationException("This layer already has a LoRA adapter.");
        var device = Weight.device;
        var a = torch.empty(rank, InFeatures);
        // kaiming_uniform_(a = √5), as PEFT does: bound = 1 / √fan_in.
        double bound = 1.0 / Math.Sqrt(InFeatures);
        using (torch.no_grad()) a.uniform_(-bound, bound, generator);
        register_parameter("lora_A", new Parameter(a.to(device)));
        register_parameter("lora_B", new Parameter(torch.zeros(OutFeatures, rank, device: device)));
        LoraScale = alpha / rank;
    }

    /// <summary>A detached copy of W + α/r · B A (W itself without an adapter).</summary>
    public Tensor MergedWeight()
    {
        using var _ = torch.no_grad();
        var a = LoraA;
        return a is null ? Weight.detach().clone() : Weight.Plus(LoraB!.matmul(a).Times(LoraScale));
    }

    /// <summary>Folds the adapter into the weight (W += α/r · B A) and removes it; the output is unchanged.</summary>
    public void MergeLora()
    {
        var a = LoraA ?? throw new InvalidOperationException("No LoRA adapter to merge.");
        var b = LoraB!;
        using (torch.no_grad())
        using (var delta = b.matmul(a))
            Weight.PlusScaledInPlace(delta, LoraScale);
        ConditionallyRegisterParameter("lora_A", null);
        ConditionallyRegisterParameter("lora_B", null);
        a.Dispose();
        b.Dispose();
        LoraScale = 0;
    }

    /// <summary>x (…, in) → (…, out).</summary>
    public override Tensor forward(Tensor x)
    {
        var y = nn.functional.linear(x, Weight, Bias);
        var a = LoraA;
        if (a is null) return y;
        using var down = nn.functional.linear(x, a);
        using var up = nn.functional.linear(down, LoraB!);
        return y.PlusScaledInPlace(up, LoraScale);
    }
}

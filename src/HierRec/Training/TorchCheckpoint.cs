using HierRec.Serialization;
using TorchSharp;
using static TorchSharp.torch;
using EngineTensor = HierRec.Serialization.FloatTensor;

namespace HierRec.Training;

/// <summary>
/// A module's state as a safetensors file (float32, Hugging Face names), written atomically and loaded strictly: every
/// tensor of the module must be in the file with its shape, and the file may hold nothing else.
/// </summary>
public static class TorchCheckpoint
{
    /// <summary>Writes <paramref name="tensors"/> (copied to the CPU as float32) to <paramref name="path"/> atomically.</summary>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        var copies = tensors.Select(kv => new KeyValuePair<string, EngineTensor>(kv.Key, TorchInterop.ToEngine(kv.Value))).ToList();
        SafeTensors.Save(path, copies, metadata);
    }

    /// <summary>Writes a module's floating-point state (parameters and buffers) to <paramref name="path"/> atomically.</summary>
    public static void Save(string path, nn.Module module, Func<string, bool>? include = null, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        using var scope = torch.NewDisposeScope(); // state_dict's fresh wrappers die here, not on the finalizer thread
        Save(path, State(module).Where(kv => include is null || include(kv.Key)), metadata);
    }

    /// <summary>
    /// The module's floating-point parameters and buffers by name, each tensor once. TorchSharp 0.107 also registers a
    /// module-typed auto-property's backing field as a second child once the owner joins a parent, so <c>state_dict()</c>
    /// lists that child's tensors again under "&lt;Name&gt;k__BackingField", nested ones up to 2^depth times (a fitted
    /// model's BERT: 1,766 entries for 72 tensors, 23× the floats). Those aliases are left out, unless a tensor has no
    /// other name. HierRec's own modules make none: each overrides <c>RegisterComponents</c> (the reflective registration
    /// that adds them) with nothing, since its constructor registers every component by name; the filter stays for other
    /// modules given here.
    /// </summary>
    public static IEnumerable<KeyValuePair<string, Tensor>> State(nn.Module module)
    {
        var state = module.state_dict().Where(kv => kv.Value.is_floating_point()).ToList();
        var named = state.Where(kv => !IsAlias(kv.Key)).Select(kv => kv.Value.Handle).ToHashSet();
        var aliased = new HashSet<IntPtr>();
        return state.Where(kv => !IsAlias(kv.Key) || (!named.Contains(kv.Value.Handle) && aliased.Add(kv.Value.Handle)));
    }

    /// <summary>Whether a state name goes through an auto-property's backing field (see <see cref="State"/>).</summary>
    private static bool IsAlias(string name) => name.Contains("k__BackingField", StringComparison.Ordinal);

    /// <summary>Reads every tensor of a safetensors file as float32 CPU tensors (the caller disposes them).</summary>
    public static Dictionary<string, Tensor> Read(string path)
    {
        var content = SafeTensors.Load(path);
        return content.Tensors.ToDictionary(kv => kv.Key, kv => TorchInterop.ToTorch(kv.Value), StringComparer.Ordinal);
    }

    /// <summary>
    /// Copies the tensors of <paramref name="path"/> into <paramref name="module"/>'s state.
    /// </summary>
    /// <exception cref="InvalidDataException">A tensor is missing, extra or of another shape (named with the file).</exception>
    public static void Load(nn.Module module, string path, Func<string, bool>? include = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        var tensors = Read(path);
        try
        {
            Load(module, tensors, path, include);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    /// <summary>As <see cref="Load(nn.Module, string, Func{string, bool}?)"/>, from tensors already read.</summary>
    public static void Load(nn.Module module, IReadOnlyDictionary<string, Tensor> tensors, string source, Func<string, bool>? include = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(tensors);
        // Every tensor made here (isfinite, all, copy_'s result) is disposed on this thread when the scope ends: one left
        // to the GC's finalizer thread frees native memory while libtorch works on this one, which corrupts its heap.
        using var scope = torch.NewDisposeScope();
        var state = State(module).Where(kv => include is null || include(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        // Files written before State left the aliases out hold them too, as copies of tensors they also hold by name.
        var extra = tensors.Keys.Where(k => !state.ContainsKey(k) && !IsAlias(k)).Order(StringComparer.Ordinal).ToList();
        if (extra.Count > 0)
            throw new InvalidDataException($"{source}: tensor '{extra[0]}' is not part of this model ({extra.Count} unexpected); the file was written for another architecture.");
        foreach (var (name, target) in state)
        {
            if (!tensors.TryGetValue(name, out var value))
                throw new InvalidDataException($"{source}: tensor '{name}' is missing; the file is incomplete or was written for another architecture.");
            if (!value.shape.SequenceEqual(target.shape))
                throw new InvalidDataException($"{source}: tensor '{name}' has shape {TorchInterop.ShapeString(value.shape)}; the model needs {TorchInterop.ShapeString(target.shape)}.");
        }
        foreach (var name in state.Keys)
        {
            if (!torch.isfinite(tensors[name]).all().item<bool>()) throw new InvalidDataException($"{source}: tensor '{name}' has a non-finite value (NaN or ±∞); the file is corrupt.");
        }
        using var noGrad = torch.no_grad();
        foreach (var (name, target) in state) target.copy_(tensors[name]);
    }

    /// <summary>Detached copies of a module's floating-point state (for keeping the best weights in memory).</summary>
    public static Dictionary<string, Tensor> Snapshot(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        return State(module).ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone().DetachFromDisposeScope(), StringComparer.Ordinal); // the caller owns the copies
    }
}

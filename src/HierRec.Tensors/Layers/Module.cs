namespace HierRec.Tensors.Layers;

/// <summary>
/// Base class of layers and models: named parameters and sub-modules registered explicitly, in a fixed order
/// (checkpoints depend on it), train/eval mode and parameter freezing.
/// </summary>
/// <remarks>
/// No reflection: a module lists its parameters by calling <see cref="RegisterParameter"/> and
/// <see cref="RegisterModule{T}"/> in its constructor. Names are dotted paths (<c>encoder.layer.0.attention.query.weight</c>).
/// A module is not thread-safe for concurrent training; concurrent inference in <c>GradMode.NoGrad</c> scopes is safe
/// for the layers in this namespace in eval mode (dropout off), because forward passes do not mutate the module.
/// </remarks>
public abstract class Module
{
    private readonly List<(string Name, Tensor Tensor)> _parameters = [];
    private readonly List<(string Name, Module Module)> _modules = [];

    /// <summary>Whether the module is in training mode (dropout active). New modules start in training mode.</summary>
    public bool IsTraining { get; private set; } = true;

    /// <summary>Registers a parameter under <paramref name="name"/> and marks it as requiring gradients.</summary>
    protected Tensor RegisterParameter(string name, Tensor tensor)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(tensor);
        if (name.Contains('.')) throw new ArgumentException($"Parameter name '{name}' must not contain '.'.", nameof(name));
        if (_parameters.Any(p => p.Name == name) || _modules.Any(m => m.Name == name))
        {
            throw new ArgumentException($"A parameter or module named '{name}' is already registered.", nameof(name));
        }
        tensor.RequiresGrad = true;
        tensor.Name ??= name;
        _parameters.Add((name, tensor));
        return tensor;
    }

    /// <summary>Removes a parameter registered by this module (used when adapters are merged away).</summary>
    /// <exception cref="ArgumentException">No parameter of that name is registered here.</exception>
    protected void UnregisterParameter(string name)
    {
        int i = _parameters.FindIndex(p => p.Name == name);
        if (i < 0) throw new ArgumentException($"No parameter named '{name}' is registered.", nameof(name));
        _parameters.RemoveAt(i);
    }

    /// <summary>Registers a sub-module under <paramref name="name"/>.</summary>
    protected T RegisterModule<T>(string name, T module) where T : Module
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(module);
        if (_parameters.Any(p => p.Name == name) || _modules.Any(m => m.Name == name))
        {
            throw new ArgumentException($"A parameter or module named '{name}' is already registered.", nameof(name));
        }
        _modules.Add((name, module));
        return module;
    }

    /// <summary>All parameters with dotted names, own parameters first, then sub-modules in registration order.</summary>
    public IEnumerable<(string Name, Tensor Parameter)> NamedParameters()
    {
        foreach (var (name, t) in _parameters) yield return (name, t);
        foreach (var (prefix, m) in _modules)
            foreach (var (name, t) in m.NamedParameters()) yield return (prefix + "." + name, t);
    }

    /// <summary>All parameters, in the order of <see cref="NamedParameters"/>.</summary>
    public IEnumerable<Tensor> Parameters() => NamedParameters().Select(p => p.Parameter);

    /// <summary>Parameters that currently require gradients (not frozen).</summary>
    public IEnumerable<Tensor> TrainableParameters() => Parameters().Where(p => p.RequiresGrad);

    /// <summary>Named sub-modules, recursively, with dotted names.</summary>
    public IEnumerable<(string Name, Module Module)> NamedModules()
    {
        foreach (var (name, m) in _modules)
        {
            yield return (name, m);
            foreach (var (sub, mm) in m.NamedModules()) yield return (name + "." + sub, mm);
        }
    }

    /// <summary>Total number of parameter elements.</summary>
    public long ParameterCount => Parameters().Sum(p => (long)p.Length);

    /// <summary>Switches this module and its sub-modules to training mode.</summary>
    public void Train() => SetMode(true);

    /// <summary>Switches this module and its sub-modules to evaluation mode (dropout off).</summary>
    public void Eval() => SetMode(false);

    /// <summary>
    /// Switches to evaluation mode until the returned scope is disposed, then back to the mode the module was in:
    /// <c>using (model.EvalScope()) { … }</c> for inference or caching in the middle of training.
    /// </summary>
    public IDisposable EvalScope()
    {
        bool wasTraining = IsTraining;
        Eval();
        return new ModeScope(this, wasTraining);
    }

    private sealed class ModeScope(Module module, bool training) : IDisposable
    {
        private bool _done;

        public void Dispose()
        {
            if (_done) return;
            _done = true;
            if (training) module.Train();
        }
    }

    private void SetMode(bool training)
    {
        IsTraining = training;
        foreach (var (_, m) in _modules) m.SetMode(training);
    }

    /// <summary>Stops (or resumes) gradient computation for every parameter of this module.</summary>
    public void Freeze(bool frozen = true)
    {
        foreach (var p in Parameters())
        {
            p.RequiresGrad = !frozen;
            if (frozen) p.Grad = null;
        }
    }

    /// <summary>Clears every parameter's gradient.</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters()) p.Grad = null;
    }

    /// <summary>
    /// Copies values from <paramref name="tensors"/> by name into this module's parameters.
    /// </summary>
    /// <param name="tensors">Name → tensor, e.g. from a safetensors file.</param>
    /// <param name="allowMissing">Returns missing names instead of throwing.</param>
    /// <param name="allowUnexpected">Ignores tensors that match no parameter instead of throwing.</param>
    /// <param name="source">The file or folder the tensors came from, named in error messages.</param>
    /// <returns>Names of parameters that were not found (empty unless <paramref name="allowMissing"/>).</returns>
    /// <exception cref="InvalidDataException">Missing or unexpected tensors (listed by name), or a shape mismatch.</exception>
    public IReadOnlyList<string> LoadParameters(IReadOnlyDictionary<string, Tensor> tensors, bool allowMissing = false, bool allowUnexpected = false, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var missing = new List<string>();
        var mismatched = new List<string>();
        var used = new HashSet<string>();
        foreach (var (name, p) in NamedParameters())
        {
            if (!tensors.TryGetValue(name, out var src))
            {
                missing.Add(name);
                continue;
            }
            used.Add(name);
            if (!src.Shape.SequenceEqual(p.Shape))
            {
                mismatched.Add($"{name}: checkpoint {Tensor.ShapeString(src.Shape)} vs model {Tensor.ShapeString(p.Shape)}");
                continue;
            }
            src.Data.CopyTo(p.Data);
        }
        var unexpected = tensors.Keys.Where(k => !used.Contains(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
        var problems = new List<string>();
        if (mismatched.Count > 0) problems.Add("shape mismatches: " + string.Join("; ", mismatched));
        if (missing.Count > 0 && !allowMissing) problems.Add("missing tensors: " + string.Join(", ", missing));
        if (unexpected.Count > 0 && !allowUnexpected) problems.Add("unexpected tensors: " + string.Join(", ", unexpected));
        if (problems.Count > 0) throw new InvalidDataException($"{(source is null ? "" : source + ": ")}cannot load parameters into {GetType().Name}: {string.Join(" | ", problems)}.");
        return missing;
    }

    /// <summary>Name → parameter, for saving.</summary>
    public IReadOnlyDictionary<string, Tensor> StateDict() => NamedParameters().ToDictionary(p => p.Name, p => p.Parameter);
}

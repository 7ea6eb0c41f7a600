using HierRec.Tests.Text;
using HierRec.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HierRec.Tests.Training;

/// <summary>
/// TorchSharp 0.107 registers a module-typed auto-property's backing field as a second child once the owner joins a
/// parent, so <c>state_dict()</c> lists such a child's tensors again under "&lt;Name&gt;k__BackingField" (nested: up to
/// 2^depth times). Checkpoints, snapshots of the best weights and saved folders must hold each tensor once.
/// </summary>
public sealed class TorchCheckpointTests
{
    private sealed class Inner : nn.Module
    {
        public Inner() : base("inner")
        {
            Linear = nn.Linear(2, 3);
            register_module("linear", Linear);
        }

        public Linear Linear { get; }
    }

    private sealed class Outer : nn.Module
    {
        public Outer() : base("outer")
        {
            Inner = new Inner();
            register_module("inner", Inner);
        }

        public Inner Inner { get; }
    }

    private sealed class Root : nn.Module
    {
        public Root() : base("root")
        {
            Outer = new Outer();
            register_module("outer", Outer);
        }

        public Outer Outer { get; }
    }

    [Fact]
    public void State_lists_each_tensor_once_under_its_registered_name()
    {
        using var root = new Root();
        // The TorchSharp behaviour this works around (if a TorchSharp update stops it, State's filter may go).
        Assert.Contains(root.state_dict().Keys, k => k.Contains("k__BackingField", StringComparison.Ordinal));
        Assert.Equal(["outer.inner.linear.weight", "outer.inner.linear.bias"], TorchCheckpoint.State(root).Select(kv => kv.Key));
        var snapshot = TorchCheckpoint.Snapshot(root);
        Assert.Equal(2, snapshot.Count);
        foreach (var t in snapshot.Values) t.Dispose();
    }

    [Fact]
    public void A_file_written_with_the_aliases_still_loads()
    {
        using var root = new Root();
        string path = Path.Combine(Path.GetTempPath(), "hierrec-aliases-" + Guid.NewGuid().ToString("N") + ".safetensors");
        try
        {
            TorchCheckpoint.Save(path, root.state_dict().ToList()); // as State wrote it before it left the aliases out
            using var other = new Root();
            TorchCheckpoint.Load(other, path);
            Assert.Equal(TorchAssert.Values(root.Outer.Inner.Linear.weight!), TorchAssert.Values(other.Outer.Inner.Linear.weight!));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_fitted_models_folder_and_best_weights_hold_each_tensor_once()
    {
        var (_, recommender, template) = HierRec.Tests.Reliability.HostileFolder.Saved.Value;
        var keys = HierRec.Serialization.SafeTensors.Load(Path.Combine(template, "model.safetensors")).Tensors.Keys.ToList();
        Assert.DoesNotContain(keys, k => k.Contains("k__BackingField", StringComparison.Ordinal));
        int tensors = recommender.Model.state_dict().Where(kv => kv.Value.is_floating_point()).Select(kv => kv.Value.Handle).Distinct().Count();
        var snapshot = TorchCheckpoint.Snapshot(recommender.Model); // what the training loop keeps of the best epoch
        Assert.Equal(tensors, snapshot.Count);
        foreach (var t in snapshot.Values) t.Dispose();
    }
}

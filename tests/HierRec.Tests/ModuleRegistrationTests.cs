using System.Reflection;
using HierRec.Text;
using HierRec.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace HierRec.Tests;

/// <summary>
/// TorchSharp's reflective <c>RegisterComponents</c>, run when a module joins a parent, registers every module- or
/// tensor-typed field not already registered under the field's own name, so an auto-property's backing field became a
/// second child ("&lt;Name&gt;k__BackingField") and nested children appeared up to 2^depth times in
/// <c>named_modules()</c>, <c>state_dict()</c>, <c>train()</c> and <c>to()</c>. HierRec's modules register every
/// component by name and override it with nothing.
/// </summary>
public sealed class ModuleRegistrationTests
{
    private sealed class Holder : nn.Module
    {
        public Holder(nn.Module inner) : base("holder") => register_module("inner", inner);
    }

    [Fact]
    public void Every_module_type_of_the_library_overrides_reflective_registration()
    {
        var library = typeof(HierarchicalModel).Assembly;
        var modules = library.GetTypes().Where(t => !t.IsAbstract && t.IsSubclassOf(typeof(nn.Module))).ToList();
        Assert.True(modules.Count >= 30, $"only {modules.Count} module types found");
        var missing = modules.Where(t => t.GetMethod("RegisterComponents", BindingFlags.Instance | BindingFlags.NonPublic)!.DeclaringType!.Assembly != library)
            .Select(t => t.FullName).ToList();
        Assert.Empty(missing);
    }

    [Fact]
    public void A_fitted_model_lists_each_module_and_tensor_once_and_registers_every_module_field()
    {
        var (_, recommender, _) = HierRec.Tests.Reliability.HostileFolder.Saved.Value;
        AssertRegisteredOnce(recommender.Model); // its parts joined it, so each part's registration ran
    }

    [Fact]
    public void A_masked_language_model_held_by_another_module_lists_each_tensor_once()
    {
        var config = new BertConfig
        {
            VocabSize = 50, HiddenSize = 16, NumHiddenLayers = 2, NumAttentionHeads = 2, IntermediateSize = 32, MaxPositionEmbeddings = 16,
        };
        using var holder = new Holder(new BertForMaskedLM(config, seed: 1)); // disposing the holder disposes the model
        AssertRegisteredOnce(holder);
        Assert.Equal(holder.state_dict().Count, TorchCheckpoint.State(holder).Count());
    }

    private static void AssertRegisteredOnce(nn.Module root)
    {
        var named = root.named_modules().ToList();
        Assert.DoesNotContain(named, m => m.name.Contains("k__BackingField", StringComparison.Ordinal));
        Assert.Equal(named.Count, named.Select(m => m.module).Distinct(ReferenceEqualityComparer.Instance).Count());
        var state = root.state_dict();
        Assert.DoesNotContain(state.Keys, k => k.Contains("k__BackingField", StringComparison.Ordinal));
        var library = typeof(HierarchicalModel).Assembly;
        foreach (var module in named.Select(m => m.module).Prepend(root))
        {
            var children = module.named_children().Select(c => c.module).ToHashSet(ReferenceEqualityComparer.Instance);
            for (var type = module.GetType(); type is not null && type.Assembly == library; type = type.BaseType)
                foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                    if (field.GetValue(module) is nn.Module child)
                        Assert.True(children.Contains(child), $"{type.Name}.{field.Name} holds a module that is not registered as a child");
        }
    }
}

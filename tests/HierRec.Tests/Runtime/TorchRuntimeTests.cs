using HierRec.Build;
using TorchSharp;

namespace HierRec.Tests.Runtime;

// The build's TorchSharp fix (build/TorchSharpNative): libtorch loads in this test process, the output copy of
// libLibTorchSharp.so is patched exactly where the system's libstdc++ lacks GLIBCXX_3.4.32, and the edit itself
// touches only its two places and never the NuGet cache.
public sealed class TorchRuntimeTests
{
    private static string OutputLibrary => Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", ElfPatch.TargetLibrary);

    private static string? NuGetLibrary()
    {
        string root = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string version = typeof(torch).Assembly.GetName().Version!.ToString(3);
        string path = Path.Combine(root, "torchsharp", version, "runtimes", "linux-x64", "native", ElfPatch.TargetLibrary);
        return File.Exists(path) ? path : null;
    }

    private static bool SystemNeedsFix()
    {
        var lib = ElfPatch.FindSystemLibstdcxx() ?? throw new InvalidOperationException("no libstdc++.so.6 on this machine");
        return !ElfPatch.DefinesVersion(lib, ElfPatch.MissingVersion);
    }

    [Fact]
    public void Libtorch_LoadsAndComputes()
    {
        using var x = torch.arange(1, 5, dtype: torch.float32);
        Assert.Equal(10f, x.sum().item<float>());
        Assert.StartsWith("2.", torch.__version__);
    }

    [Fact]
    public void OutputCopy_IsPatchedExactlyWhereTheSystemLibstdcxxLacksTheVersion()
    {
        if (!OperatingSystem.IsLinux()) return;
        var state = ElfPatch.Inspect(File.ReadAllBytes(OutputLibrary), OutputLibrary);
        bool shim = File.Exists(Path.Combine(Path.GetDirectoryName(OutputLibrary)!, ElfPatch.ShimName));
        if (SystemNeedsFix())
        {
            Assert.True(state.VersionIsWeak);
            Assert.True(state.NeedsShim);
            Assert.False(state.NeedsReplaced);
            Assert.True(shim);
        }
        else
        {
            // Nothing is done where it is not needed: the library is as NuGet ships it and there is no shim.
            Assert.False(state.VersionIsWeak);
            Assert.False(state.NeedsShim);
            Assert.False(shim);
        }
    }

    [Fact]
    public void Patch_ChangesOnlyTheVersionFlagAndTheNeededName_AndIsIdempotent()
    {
        var original = NuGetLibrary();
        Assert.True(original is not null, "TorchSharp's package folder is not in the NuGet cache (set NUGET_PACKAGES)");
        var bytes = File.ReadAllBytes(original!);
        var before = ElfPatch.Inspect(bytes, original!);
        // The cache copy is never patched in place, even though the output copies may be hard links to it.
        Assert.True(before.RequiresVersion);
        Assert.False(before.VersionIsWeak);
        Assert.True(before.NeedsReplaced);

        var patched = (byte[])bytes.Clone();
        var after = ElfPatch.Patch(patched, original!);
        Assert.True(after.IsPatched);
        var changed = Enumerable.Range(0, bytes.Length).Where(i => bytes[i] != patched[i]).ToList();
        Assert.InRange(changed.Count, 2, 1 + ElfPatch.ShimName.Length);
        // The changes form two clusters: the flag byte, and bytes inside the one renamed string.
        var clusters = new List<(int First, int Last)>();
        foreach (int i in changed)
        {
            if (clusters.Count > 0 && i - clusters[^1].Last < ElfPatch.ShimName.Length) clusters[^1] = (clusters[^1].First, i);
            else clusters.Add((i, i));
        }
        Assert.Equal(2, clusters.Count);
        Assert.All(clusters, c => Assert.True(c.Last - c.First < ElfPatch.ShimName.Length));

        var again = (byte[])patched.Clone();
        ElfPatch.Patch(again, original!);
        Assert.Equal(patched, again);
    }

    [Fact]
    public void DefinesVersion_ReadsTheSystemLibstdcxxVersions()
    {
        if (!OperatingSystem.IsLinux()) return;
        var lib = ElfPatch.FindSystemLibstdcxx();
        Assert.NotNull(lib);
        // Every libstdc++ since GCC 4.9 defines 3.4.20; none defines a version from the far future.
        Assert.True(ElfPatch.DefinesVersion(lib!, "GLIBCXX_3.4.20"));
        Assert.False(ElfPatch.DefinesVersion(lib!, "GLIBCXX_9.9.99"));
    }

    [Fact]
    public void Patch_RefusesAFileThatIsNotElf()
    {
        var bytes = "not a shared library at all, just some text"u8.ToArray();
        var e = Assert.Throws<InvalidDataException>(() => ElfPatch.Patch(bytes, "fake.so"));
        Assert.Contains("fake.so", e.Message);
    }
}

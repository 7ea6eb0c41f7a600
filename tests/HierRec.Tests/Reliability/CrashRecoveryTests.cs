using HierRec.Serialization;
using HierRec.Text;
using TorchSharp;

namespace HierRec.Tests.Reliability;

/// <summary>
/// Every crash point of <see cref="AtomicFile.WriteDirectory"/>, by injection: after the new copy is written, after the
/// old one is moved aside, after the new one is moved in; and a copy killed mid-write. Load always finds a complete,
/// verified copy (the newest one), and leaves no debris behind.
/// </summary>
[Trait("Category", "Hostile")]
public sealed class CrashRecoveryTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "hierrec-crash-" + Guid.NewGuid().ToString("N"));

    public CrashRecoveryTests() => Directory.CreateDirectory(_root);

    public void Dispose()
    {
        AtomicFile.CrashPoint = null;
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    private sealed class Crash : Exception;

    private static BertModel Model(int seed) => new(new BertConfig { VocabSize = 40, HiddenSize = 8, NumHiddenLayers = 1, NumAttentionHeads = 2, IntermediateSize = 16, MaxPositionEmbeddings = 16 }, seed: seed);

    private static float Fingerprint(BertModel m)
    {
        using var sum = m.named_parameters().First(p => p.name.EndsWith("query.weight", StringComparison.Ordinal)).parameter.sum();
        return sum.item<float>();
    }

    private string[] Debris() => Directory.GetFileSystemEntries(_root).Select(Path.GetFileName).Where(n => n!.StartsWith('.')).ToArray()!;

    [Theory]
    [InlineData("written")]
    [InlineData("moved-aside")]
    [InlineData("moved-in")]
    public void ACrashAtAnyPoint_LeavesTheNewestCompleteCopyLoadable_AndNoDebris(string point)
    {
        string folder = Path.Combine(_root, "bert");
        using var old = Model(1);
        using var next = Model(2);
        Assert.NotEqual(Fingerprint(old), Fingerprint(next));
        old.Save(folder);
        AtomicFile.CrashPoint = (p, f) => { if (p == point && f == folder) throw new Crash(); };
        Assert.Throws<Crash>(() => next.Save(folder));
        AtomicFile.CrashPoint = null;
        Assert.NotEmpty(Debris()); // the crash left a copy (and, at the first two points, the lock) behind

        // The new copy was complete at every one of these points: it wins.
        using var loaded = BertModel.Load(folder);
        Assert.Equal(Fingerprint(next), Fingerprint(loaded));
        Assert.Empty(Debris());
        FolderChecksums.Verify(folder);
    }

    [Fact]
    public void ACopyKilledMidWrite_IsIgnoredAndRemoved_AndThePreviousCopyServes()
    {
        string folder = Path.Combine(_root, "bert");
        using var old = Model(1);
        old.Save(folder);
        // What a kill -9 during write leaves: a temporary copy with some files and no checksums.json.
        string partial = Path.Combine(_root, $".bert.{Guid.NewGuid():N}.tmp");
        Directory.CreateDirectory(partial);
        File.WriteAllText(Path.Combine(partial, "config.json"), "{\"vocab_size\": 40");
        using var loaded = BertModel.Load(folder);
        Assert.Equal(Fingerprint(old), Fingerprint(loaded));
        Assert.Empty(Debris());
    }

    [Fact]
    public void ACrashBetweenTheRenames_WithAnIncompleteNewCopy_BringsThePreviousCopyBack()
    {
        string folder = Path.Combine(_root, "bert");
        using var old = Model(1);
        old.Save(folder);
        // The old copy moved aside, the new one never finished: no folder at the name at all.
        Directory.Move(folder, Path.Combine(_root, $".bert.old-{Guid.NewGuid():N}"));
        Directory.CreateDirectory(Path.Combine(_root, $".bert.{Guid.NewGuid():N}.tmp"));
        using var loaded = BertModel.Load(folder);
        Assert.Equal(Fingerprint(old), Fingerprint(loaded));
        Assert.Empty(Debris());
    }

    [Fact]
    public void AFailedWrite_LeavesTheOldFolderAndNoDebris()
    {
        string folder = Path.Combine(_root, "plain");
        AtomicFile.WriteDirectory(folder, d => File.WriteAllText(Path.Combine(d, "a.txt"), "old"));
        Assert.Throws<IOException>(() => AtomicFile.WriteDirectory(folder, d =>
        {
            File.WriteAllText(Path.Combine(d, "a.txt"), "new");
            throw new IOException("disk full");
        }));
        Assert.Equal("old", File.ReadAllText(Path.Combine(folder, "a.txt")));
        Assert.Empty(Debris());
    }

    [Fact]
    public void TheRecommender_RecoversFromACrashBetweenItsRenames()
    {
        var (split, r, template) = HostileFolder.Saved.Value;
        string folder = Path.Combine(_root, "model");
        HostileFolder.Copy(template, folder);
        AtomicFile.CrashPoint = (p, f) => { if (p == "moved-aside" && f == folder) throw new Crash(); }; // the outer folder, not bert/ inside it
        Assert.Throws<Crash>(() => r.Save(folder));
        AtomicFile.CrashPoint = null;
        Assert.False(Directory.Exists(folder));
        var loaded = HierarchicalRecommender.Load(folder);
        string user = split.Train.Users.ToExternal(2);
        Assert.Equal(r.Recommend(user, 5).Select(x => x.ItemId), loaded.Recommend(user, 5).Select(x => x.ItemId));
        Assert.Empty(Debris());
    }
}

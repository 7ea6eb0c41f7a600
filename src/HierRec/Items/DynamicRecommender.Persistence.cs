using HierRec.Serialization;
using HierRec.Training;

namespace HierRec.Items;

/// <summary>Persistence: one folder with the base recommender, written atomically and checked on load.</summary>
public sealed partial class DynamicRecommender
{
    /// <summary>
    /// Format version of saved dynamic folders: 2 since the TorchSharp port, 3 with the feature bias (2 still loads,
    /// without it), 4 with the users' novelty counts (3 still loads, offering kept places as it did: to every user).
    /// </summary>
    public const int FormatVersion = 4;

    private sealed record Manifest(string Format, int Version, DynamicOptions Options, long SnapshotVersion, int[][] Histories, long[] LastTimes, long[][] ItemTimes,
        int[]? UserSeen = null, int[]? UserNew = null);

    /// <summary>
    /// Writes the base recommender (base/), the dynamic layers (dynamic.safetensors), the options, histories and snapshot
    /// version (dynamic.json) into <paramref name="folder"/>, atomically. Replay examples are not saved.
    /// </summary>
    public void Save(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        SnapshotLease held;
        int[][] histories;
        long[] last;
        long[][] itemTimes;
        int[] seen, fresh;
        lock (_writeLock)
        {
            held = Hold(); // an Update after the lock must not dispose what is being written
            histories = [.. _histories];
            last = [.. _lastTime];
            itemTimes = [.. _itemTimes];
            seen = [.. _userSeen];
            fresh = [.. _userNew];
        }
        using var release = held;
        var s = held.Snapshot;
        var bytes = ManifestJson.Serialize(new Manifest("hierrec-dynamic", FormatVersion, Options with { Context = s.Context?.Schema ?? Options.Context }, s.Version, histories, last, itemTimes, seen, fresh));
        AtomicFile.WriteDirectory(folder, dir =>
        {
            _base.Save(Path.Combine(dir, "base"));
            AtomicFile.Write(Path.Combine(dir, "dynamic.json"), st => st.Write(bytes));
            TorchCheckpoint.Save(Path.Combine(dir, "dynamic.safetensors"), s.Layers);
        });
    }

    /// <summary>Loads a folder written by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">
    /// The folder is not a dynamic recommender, was written before the TorchSharp port (format version 1), or its files
    /// disagree (named).
    /// </exception>
    /// <param name="folder">The folder.</param>
    /// <param name="device">Where the models go (CPU when null); see <see cref="RecommenderOptions.Device"/>.</param>
    public static DynamicRecommender Load(string folder, TorchSharp.torch.Device? device = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        AtomicFile.Recover(folder);
        var manifest = ManifestJson.Read<Manifest>(folder, "dynamic.json", "DynamicRecommender", "hierrec-dynamic", FormatVersion, m => (m.Format, m.Version), firstTorchVersion: 2, oldestReadable: 2);
        string manifestPath = Path.Combine(folder, "dynamic.json");
        if (FolderChecksums.Present(folder)) FolderChecksums.Verify(folder);
        var c = new ManifestChecks(manifestPath);
        if (manifest.Options is null) throw c.Error("Options", "is missing.");
        if (manifest.Version < 3) manifest = manifest with { Options = manifest.Options with { ItemDynamicsBias = false } }; // written before the feature bias existed
        if (manifest.Version < 4) // nor the novelty counts: kept places go to every user, as they did, and the counts start afresh
            manifest = manifest with { Options = manifest.Options with { NewItemPlaceAudience = 0 }, UserSeen = new int[manifest.LastTimes?.Length ?? 0], UserNew = new int[manifest.LastTimes?.Length ?? 0] };
        var baseRecommender = HierarchicalRecommender.LoadCore(Path.Combine(folder, "base"), device, verified: FolderChecksums.Present(folder)); // covered by this folder's checksums
        DynamicLayers? layers = null;
        try
        {
            int d = baseRecommender.Model.Options.Dimension;
            layers = DynamicLayers.Create(d, manifest.Options, manifest.Options.Context, 0, baseRecommender.ItemVectors.device);
            TorchCheckpoint.Load(layers, Path.Combine(folder, "dynamic.safetensors"));
            layers.eval();
            c.Indices("Histories", manifest.Histories, baseRecommender.Context.Histories.Count, baseRecommender.HierarchicalIndex.Count, "item indices of the base recommender");
            c.Length("LastTimes", manifest.LastTimes, manifest.Histories.Length);
            c.Required("ItemTimes", manifest.ItemTimes, baseRecommender.HierarchicalIndex.Count);
            for (int i = 0; i < manifest.ItemTimes.Length; i++) // the item features' and the stream sources' binary searches need them ascending
                for (int j = 1; j < manifest.ItemTimes[i].Length; j++)
                    if (manifest.ItemTimes[i][j] < manifest.ItemTimes[i][j - 1])
                        throw c.Error($"ItemTimes[{i}][{j}]", $"is {manifest.ItemTimes[i][j]}, before the time ahead of it ({manifest.ItemTimes[i][j - 1]}): each item's times must ascend.");
            c.Length("UserSeen", manifest.UserSeen, manifest.Histories.Length);
            c.Length("UserNew", manifest.UserNew, manifest.Histories.Length);
            for (int u = 0; u < manifest.UserSeen!.Length; u++)
            {
                if (manifest.UserSeen[u] < 0) throw c.Error($"UserSeen[{u}]", $"is {manifest.UserSeen[u]}; a count cannot be negative.");
                if (manifest.UserNew![u] < 0 || manifest.UserNew[u] > manifest.UserSeen[u])
                    throw c.Error($"UserNew[{u}]", $"is {manifest.UserNew[u]}, outside [0, UserSeen[{u}] = {manifest.UserSeen[u]}].");
            }
        }
        catch
        {
            layers?.Dispose(); // a folder that fails to load leaves nothing behind in native memory
            baseRecommender.Dispose();
            throw;
        }
        var recommender = new DynamicRecommender(baseRecommender, manifest.Options, new Snapshot(layers, manifest.SnapshotVersion)) { _ownsBase = true };
        recommender._histories = manifest.Histories;
        recommender._lastTime = manifest.LastTimes;
        recommender._itemTimes = manifest.ItemTimes;
        recommender._userSeen = manifest.UserSeen!;
        recommender._userNew = manifest.UserNew!;
        recommender._seenTotal = manifest.UserSeen!.Sum(x => (long)x);
        recommender._newTotal = manifest.UserNew!.Sum(x => (long)x);
        recommender._logStart = manifest.ItemTimes.Where(t => t.Length > 0).Select(t => t[0]).DefaultIfEmpty(long.MaxValue).Min();
        recommender._clock = manifest.ItemTimes.Where(t => t.Length > 0).Select(t => t[^1]).DefaultIfEmpty(0).Max();
        return recommender;
    }
}

using System.Text.Json.Nodes;
using HierRec.Data;
using HierRec.Serialization;
using HierRec.Text;
using HierRec.Training;

namespace HierRec.Tests.Reliability;

/// <summary>
/// A small fitted recommender saved once; each test works on its own copy of the folder, edits it as an attacker or a
/// clumsy operator would, and (where the test is about the manifest rather than the checksums) re-seals it.
/// </summary>
public sealed class HostileFolder : IDisposable
{
    public static readonly Lazy<(DataSplit Split, HierarchicalRecommender Recommender, string Template)> Saved = new(() =>
    {
        var data = Splits.Deduplicate(Splits.ToImplicit(SyntheticDataset.Generate(new SyntheticOptions { Users = 80, Items = 120 })));
        var split = Splits.RandomRatioPerUser(data, 0.8, 0.1, 0.1, seed: 4);
        var r = HierarchicalRecommender.Fit(split.Train, split.Validation, FitOptions);
        string template = Path.Combine(Path.GetTempPath(), "hierrec-hostile-template-" + Guid.NewGuid().ToString("N"));
        r.Save(template);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(template, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { } // best effort
        };
        return (split, r, template);
    });

    /// <summary>The options of the small fit behind <see cref="Saved"/>.</summary>
    public static RecommenderOptions FitOptions { get; } = new()
    {
        Model = new HierarchicalOptions { Dimension = 16, MaxFriends = 6 },
        Training = new HierarchicalTrainingOptions { Epochs = 2, BatchSize = 32, LearningRate = 3e-3f },
        DomainBert = new DomainBertOptions { Epochs = 1, VocabularySize = 300, HiddenSize = 32, MaxLength = 16 },
    };

    public HostileFolder()
    {
        Root = Path.Combine(Path.GetTempPath(), "hierrec-hostile-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
        Folder = Path.Combine(Root, "model");
        Copy(Saved.Value.Template, Folder);
    }

    /// <summary>Holds the copy and its siblings (crash debris lands here).</summary>
    public string Root { get; }

    /// <summary>A copy of the saved recommender.</summary>
    public string Folder { get; }

    public string File(string name) => Path.Combine(Folder, name);

    /// <summary>Edits recommender.json as JSON, then re-seals the checksums so the manifest checks, not the hashes, decide.</summary>
    public void EditManifest(Action<JsonObject> edit)
    {
        var json = JsonNode.Parse(System.IO.File.ReadAllText(File("recommender.json")))!.AsObject();
        edit(json);
        System.IO.File.WriteAllText(File("recommender.json"), json.ToJsonString());
        FolderChecksums.Write(Folder);
    }

    /// <summary>
    /// Replaces items.hrix with an index of other vectors (as from another save) and re-seals the checksums, so the folder
    /// fails only the late check that the index agrees with what the weights compute.
    /// </summary>
    public void ReplaceIndexWithAnotherSaves()
    {
        string path = File("items.hrix");
        float[] rows;
        int count, dimension;
        using (var index = HierRec.Ranking.ItemIndex.Load(path))
        {
            (count, dimension) = (index.Count, index.Dimension);
            rows = Enumerable.Range(0, count).SelectMany(i => index.GetVector(i)).Select(v => -v).ToArray();
        }
        using (var other = HierRec.Ranking.ItemIndex.Create(rows, count, dimension)) other.Save(path);
        FolderChecksums.Write(Folder);
    }

    /// <summary>The InvalidDataException Load throws, with the message checked to name the file.</summary>
    public InvalidDataException LoadFails(string file)
    {
        var ex = Assert.Throws<InvalidDataException>(() => HierarchicalRecommender.Load(Folder));
        Assert.True(ex.Message.Contains(file, StringComparison.Ordinal), $"'{file}' is not named in: {ex.Message}");
        return ex;
    }

    public static void Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from)) System.IO.File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
        foreach (var d in Directory.GetDirectories(from)) Copy(d, Path.Combine(to, Path.GetFileName(d)));
    }

    public void Dispose()
    {
        if (Directory.Exists(Root)) Directory.Delete(Root, recursive: true);
    }
}

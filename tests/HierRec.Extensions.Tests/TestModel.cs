using HierRec.Data;
using HierRec.Text;
using HierRec.Training;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace HierRec.Extensions.Tests;

/// <summary>A small recommender fitted once and saved; tests copy its folder.</summary>
public static class TestModel
{
    /// <summary>One folder per test run holding every saved model and copy; deleted when the test process exits.</summary>
    public static readonly Lazy<string> Root = new(() =>
    {
        string root = Path.Combine(Path.GetTempPath(), "hierrec-ext-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { } // best effort: never fail the run
        };
        return root;
    });

    public static readonly Lazy<(DataSplit Split, HierarchicalRecommender Recommender, string Folder)> Saved = new(() =>
    {
        var data = Splits.Deduplicate(Splits.ToImplicit(SyntheticDataset.Generate(new SyntheticOptions { Users = 60, Items = 90 })));
        var split = Splits.RandomRatioPerUser(data, 0.8, 0.1, 0.1, seed: 9);
        var r = HierarchicalRecommender.Fit(split.Train, split.Validation, new RecommenderOptions
        {
            Model = new HierarchicalOptions { Dimension = 16, MaxFriends = 6 },
            Training = new HierarchicalTrainingOptions { Epochs = 2, BatchSize = 32 },
            DomainBert = new DomainBertOptions { Epochs = 1, VocabularySize = 300, HiddenSize = 32, MaxLength = 16 },
        });
        string folder = Path.Combine(Root.Value, "model-" + Guid.NewGuid().ToString("N"));
        r.Save(folder);
        return (split, r, folder);
    });

    /// <summary>A small dynamic recommender over the same model, fitted on the validation interactions and saved.</summary>
    public static readonly Lazy<string> DynamicFolder = new(() =>
    {
        var (split, r, _) = Saved.Value;
        var dynamic = HierRec.Items.DynamicRecommender.Fit(r, split.Train, split.Validation,
            new HierRec.Items.DynamicOptions { Epochs = 1, Candidates = 30, Negatives = 10, BatchSize = 64 });
        string folder = Path.Combine(Root.Value, "dynamic-" + Guid.NewGuid().ToString("N"));
        dynamic.Save(folder);
        return folder;
    });

    /// <summary>The same model with a concept model fitted on tag-derived descriptions, saved to its own folder.</summary>
    public static readonly Lazy<string> ConceptFolder = new(() =>
    {
        var (split, _, folder) = Saved.Value;
        var r = HierarchicalRecommender.Load(folder);
        var tastes = HierRec.Evaluation.TagDescriptions.Tastes(split.Train);
        var descriptions = Enumerable.Range(0, split.Train.UserCount).Where(u => tastes[u] is not null)
            .ToDictionary(u => split.Train.Users.ToExternal(u), u => HierRec.Evaluation.TagDescriptions.Phrasings(tastes[u]!));
        r.FitConcepts(split.Train, split.Validation, descriptions, new HierRec.Concepts.ConceptOptions
        {
            InterestEpochs = 2, AlignmentEpochs = 3, BatchSize = 32,
            DomainBert = new DomainBertOptions { Epochs = 1, VocabularySize = 300, HiddenSize = 32, MaxLength = 16 },
        });
        string to = Path.Combine(Root.Value, "concepts-" + Guid.NewGuid().ToString("N"));
        r.Save(to);
        return to;
    });

    /// <summary>A fresh copy of the saved folder under a fresh parent (so watchers see only this test's changes).</summary>
    public static string Copy()
    {
        string to = Path.Combine(Root.Value, "copy-" + Guid.NewGuid().ToString("N"), "model");
        CopyTree(Saved.Value.Folder, to);
        return to;
    }

    private static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
        foreach (var d in Directory.GetDirectories(from)) CopyTree(d, Path.Combine(to, Path.GetFileName(d)));
    }
}

using System.Text.Json.Nodes;
using HierRec.Serialization;
using HierRec.Training;
using TorchSharp;

namespace HierRec.Tests.Reliability;

/// <summary>A saved recommender folder: every manifest lie, size lie, bit flip and missing part is refused by name, before anything is served.</summary>
[Trait("Category", "Hostile")]
public sealed class RecommenderFolderTests : IDisposable
{
    private readonly HostileFolder _f = new();

    public void Dispose() => _f.Dispose();

    [Fact]
    public void TheUntouchedCopy_LoadsAndServesAsSaved()
    {
        var (split, r, _) = HostileFolder.Saved.Value;
        var loaded = HierarchicalRecommender.Load(_f.Folder);
        string user = split.Train.Users.ToExternal(5);
        Assert.Equal(r.Recommend(user, 10).Select(x => x.ItemId), loaded.Recommend(user, 10).Select(x => x.ItemId));
        Assert.True(System.IO.File.Exists(_f.File(FolderChecksums.FileName)));
    }

    [Fact]
    public void ARepeatedUserOrItemId_IsRefused_NotAShiftedTopTen()
    {
        _f.EditManifest(m => m["UserIds"]![1] = m["UserIds"]![0]!.GetValue<string>());
        Assert.Contains("UserIds[1]", _f.LoadFails("recommender.json").Message);
        Assert.Contains("repeats UserIds[0]", _f.LoadFails("recommender.json").Message);

        using var again = new HostileFolder();
        again.EditManifest(m => m["ItemIds"]![7] = m["ItemIds"]![3]!.GetValue<string>());
        Assert.Contains("ItemIds[7]", again.LoadFails("recommender.json").Message);
    }

    [Fact]
    public void OutOfRangeNeighboursAndHistories_AndShortArrays_AreRefusedByField()
    {
        _f.EditManifest(m => m["Neighbours"]![2] = new JsonArray(0, 99_999));
        Assert.Contains("Neighbours[2][1]", _f.LoadFails("recommender.json").Message);

        using var history = new HostileFolder();
        history.EditManifest(m => m["Histories"]![0] = new JsonArray(-1));
        Assert.Contains("Histories[0][0]", history.LoadFails("recommender.json").Message);

        using var items = new HostileFolder();
        items.EditManifest(m => m["ItemIds"]!.AsArray().RemoveAt(0));
        Assert.Contains("ItemIds has", items.LoadFails("recommender.json").Message);

        using var warm = new HostileFolder();
        warm.EditManifest(m => m["Warm"]!.AsArray().RemoveAt(0));
        Assert.Contains("Warm has", warm.LoadFails("recommender.json").Message);

        using var profiles = new HostileFolder();
        profiles.EditManifest(m => m["Profiles"]!.AsArray().RemoveAt(0));
        Assert.Contains("Profiles has", profiles.LoadFails("recommender.json").Message);
    }

    [Fact]
    public void SizesTheFileCannotHold_AreRefusedBeforeAnyAllocation()
    {
        // 10⁸ users declared in a small file: refused against the ids the file really lists.
        _f.EditManifest(m => m["Users"] = 100_000_000);
        Assert.Contains("the manifest declares 100000000", _f.LoadFails("recommender.json").Message);

        // Counts that agree with each other but not with the weights: a dimension of 16,384 needs gigabytes that
        // model.safetensors does not hold.
        using var wide = new HostileFolder();
        wide.EditManifest(m =>
        {
            m["Model"]!["Dimension"] = 16_384;
            m["Profile"]!["Dimension"] = 16_384;
        });
        Assert.Contains("cannot hold", wide.LoadFails("model.safetensors").Message);

        using var profile = new HostileFolder();
        profile.EditManifest(m => m["Profile"]!["Dimension"] = 8);
        Assert.Contains("Profile.Dimension is 8", profile.LoadFails("recommender.json").Message);

        using var heads = new HostileFolder();
        heads.EditManifest(m => m["Model"]!["Heads"] = 0);
        Assert.Contains("HierarchicalOptions.Heads", heads.LoadFails("recommender.json").Message);
    }

    [Fact]
    public void AnIndexFromAnotherSave_IsRefused_EvenWhenTheChecksumsAgree()
    {
        _f.ReplaceIndexWithAnotherSaves();
        Assert.Contains("differs from what the saved model computes", _f.LoadFails("items.hrix").Message);
    }

    [Fact]
    public void ABitFlipInTheWeights_IsCaughtByItsChecksum()
    {
        string weights = _f.File("model.safetensors");
        var bytes = System.IO.File.ReadAllBytes(weights);
        bytes[^9] ^= 0x10;
        System.IO.File.WriteAllBytes(weights, bytes);
        Assert.Contains("SHA-256 differs", _f.LoadFails("model.safetensors").Message);
    }

    [Fact]
    public void NonFiniteWeights_AreRefusedWithTheTensorName_EvenWhenTheChecksumsAgree()
    {
        string weights = _f.File("model.safetensors");
        var tensors = TorchCheckpoint.Read(weights);
        string name = tensors.Keys.Order(StringComparer.Ordinal).First(k => tensors[k].numel() > 1);
        using (torch.no_grad()) tensors[name].view(-1)[1] = float.NaN;
        TorchCheckpoint.Save(weights, tensors);
        foreach (var t in tensors.Values) t.Dispose();
        FolderChecksums.Write(_f.Folder);
        var ex = _f.LoadFails("model.safetensors");
        Assert.Contains($"tensor '{name}' has a non-finite value", ex.Message);
    }

    [Fact]
    public void AMissingSubFolder_OrAnAddedFile_IsRefused()
    {
        Directory.Delete(_f.File("bert"), recursive: true);
        Assert.Contains("bert/", _f.LoadFails(_f.Folder).Message);

        using var added = new HostileFolder();
        System.IO.File.WriteAllText(added.File("extra.json"), "{}");
        Assert.Contains("extra.json is not listed", added.LoadFails(added.Folder).Message);

        using var unsealed = new HostileFolder();
        System.IO.File.Delete(unsealed.File(FolderChecksums.FileName));
        Assert.Contains("checksums.json is missing", unsealed.LoadFails(unsealed.Folder).Message);
    }

    [Fact]
    public void ALyingChecksumManifest_CannotPointOutsideTheFolder()
    {
        string manifest = _f.File(FolderChecksums.FileName);
        var json = JsonNode.Parse(System.IO.File.ReadAllText(manifest))!.AsObject();
        json["Files"]!.AsArray().Add(new JsonObject { ["Path"] = "../../etc/passwd", ["Bytes"] = 1, ["Sha256"] = "00" });
        System.IO.File.WriteAllText(manifest, json.ToJsonString());
        Assert.Contains("points outside the folder", _f.LoadFails(FolderChecksums.FileName).Message);
    }
}

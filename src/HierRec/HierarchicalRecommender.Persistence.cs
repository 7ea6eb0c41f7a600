using HierRec.Concepts;
using HierRec.Data;
using HierRec.Ranking;
using HierRec.Serialization;
using HierRec.Text;
using HierRec.Training;
using HierRec.Users;
using TorchSharp;
using EngineTensor = HierRec.Serialization.FloatTensor;

namespace HierRec;

/// <summary>Persistence: one folder, written atomically, every file checked on load.</summary>
public sealed partial class HierarchicalRecommender
{
    /// <summary>
    /// Format version of saved folders: 6 adds the friends' items dimension (its weight, and the newcomers' weights by history length, in recommender.json; it is rebuilt
    /// from the saved neighbours and histories); 5 added the sequential dimension (sequential.safetensors, the SASRec weights; its
    /// options and weight in recommender.json); 4 added the collaborative dimension (collaborative.safetensors, its λ, rank
    /// and weight in recommender.json); 3 added checksums.json (every file's SHA-256, verified on load). 4, 3 and 2 (3's
    /// files without checksums) still load; 1 was HierRec's own engine, before the TorchSharp port.
    /// </summary>
    public const int FormatVersion = 6;

    private sealed record Manifest(string Format, int Version, HierarchicalOptions Model, ProfileSchema? Profile, int Users, int Items, int TextWidth,
        string[] UserIds, string[] ItemIds, int[][] Histories, int[][] Neighbours, int[][]? Hops, UserProfile[] Profiles, bool[]? Warm,
        CollaborativeManifest? Collaborative = null, SequentialManifest? Sequential = null, FriendItemsManifest? FriendItems = null,
        NewUserFriendItemsManifest[]? NewUserFriendItems = null);

    private sealed record CollaborativeManifest(double Lambda, int Rank, float Weight);

    private sealed record SequentialManifest(Baselines.SequentialOptions Model, float Weight);

    private sealed record FriendItemsManifest(float Weight);

    private sealed record NewUserFriendItemsManifest(int Items, float Weight);

    /// <summary>
    /// Writes everything needed to serve, atomically as one folder: recommender.json (format version, architecture,
    /// profile schema, ids, the users' histories, neighbours and profiles), model.safetensors, text.safetensors (fixed item
    /// text vectors), items.hrix (the ranker's index), bert/ (the item-text BERT folder, for new items) and concepts/
    /// (the concept model, if any).
    /// </summary>
    public void Save(string folder)
    {
        ThrowIfDisposed();
        ArgumentException.ThrowIfNullOrEmpty(folder);
        var manifest = new Manifest("hierrec-hierarchical", FormatVersion, _model.Options, _model.Profile?.Schema, _model.UserCount, _model.ItemTower.Items, _model.ItemTower.TextWidth,
            [.. _users.External], [.. _items.External], [.. _context.Histories], [.. _context.Neighbours], _context.Hops?.ToArray(), [.. _context.Profiles], _model.ItemTower.Warm,
            _fusion?.Collaborative is { } cd ? new CollaborativeManifest(cd.Lambda, cd.Rank, _fusion.Weight) : null,
            _fusion?.Sequential is { } sd ? new SequentialManifest(sd.Options, _fusion.SequentialWeight) : null,
            _friendItems is { } fi ? new FriendItemsManifest(fi.Weight) : null,
            _newUserFriendItems is null ? null : _newUserFriendItemWeights.Select(p => new NewUserFriendItemsManifest(p.Items, p.Weight)).ToArray());
        var bytes = ManifestJson.Serialize(manifest);
        AtomicFile.WriteDirectory(folder, dir =>
        {
            AtomicFile.Write(Path.Combine(dir, "recommender.json"), s => s.Write(bytes));
            // BERT goes to bert/ (adapters merged); the model file holds the recommender's own parameters.
            TorchCheckpoint.Save(Path.Combine(dir, "model.safetensors"), _model, IsRecommenderTensor);
            if (_model.ItemTower.TextVectors is { } text) TorchCheckpoint.Save(Path.Combine(dir, "text.safetensors"), [new("text", text)]);
            _index.Save(Path.Combine(dir, "items.hrix"));
            if (_fusion?.Collaborative is { } c)
            {
                using var history = torch.tensor(c.HistoryFactors.ToArray(), [c.Items, c.Rank]);
                using var candidates = torch.tensor(c.CandidateFactors.ToArray(), [c.Items, c.Rank]);
                TorchCheckpoint.Save(Path.Combine(dir, "collaborative.safetensors"), [new("history", history), new("candidates", candidates)]);
            }
            _fusion?.Sequential?.Save(Path.Combine(dir, "sequential.safetensors"));
            Bert?.Save(Path.Combine(dir, "bert"));
            using (var hold = TryHoldConcepts()) hold?.Model.Save(Path.Combine(dir, "concepts")); // a refit meanwhile leaves it alive
        });
    }

    /// <summary>recommender.json against itself and against the sizes of the weights files, before any allocation.</summary>
    private static void Check(Manifest m, string folder)
    {
        string path = Path.Combine(folder, "recommender.json");
        var c = new ManifestChecks(path);
        if (m.Model is null) throw c.Error("Model", "is missing.");
        try
        {
            m.Model.Validate();
        }
        catch (ArgumentException ex)
        {
            throw c.Error("Model", $"is invalid: {ex.Message}");
        }
        c.Count("Users", m.Users);
        c.Count("Items", m.Items);
        if (m.Items == 0) throw c.Error("Items", "is 0; a recommender needs items.");
        if (m.Users == 0) throw c.Error("Users", "is 0; a recommender needs users.");
        c.Count("TextWidth", m.TextWidth, 1 << 16);
        if (m.Profile is { } schema)
        {
            if (schema.Dimension != m.Model.Dimension) throw c.Error("Profile.Dimension", $"is {schema.Dimension}; the model has dimension {m.Model.Dimension}.");
            c.Count("Profile.FieldDimension", schema.FieldDimension, Ranking.ItemIndex.MaxDimension);
            if (schema.Categorical is null || schema.Numeric is null) throw c.Error("Profile", "has no field lists.");
            for (int i = 0; i < schema.Categorical.Count; i++)
                if (schema.Categorical[i]?.Name is null || schema.Categorical[i].Values is null) throw c.Error($"Profile.Categorical[{i}]", "has no name or values.");
            for (int i = 0; i < schema.Numeric.Count; i++)
                if (schema.Numeric[i] is not { Name: not null } f || !float.IsFinite(f.Mean) || !(f.Std > 0) || !float.IsFinite(f.Std))
                    throw c.Error($"Profile.Numeric[{i}]", "needs a name, a finite mean and a positive finite standard deviation.");
        }
        c.UniqueIds("UserIds", m.UserIds, m.Users);
        c.UniqueIds("ItemIds", m.ItemIds, m.Items);
        c.Indices("Histories", m.Histories, m.Users, m.Items, "item indices");
        c.Indices("Neighbours", m.Neighbours, m.Users, m.Users, "user indices");
        c.Indices("Hops", m.Hops, m.Users, m.Users, "user indices", optional: true);
        c.Required("Profiles", m.Profiles, m.Users);
        c.Length("Warm", m.Warm, m.Items, optional: true);
        long d = m.Model.Dimension, tables = 0;
        if (m.Model.UseItemIds) tables += m.Items * d;
        if (m.Model.UseBehaviour && m.Model.HistoryEmbeddings) tables += m.Items * d;
        if (m.Model.UseBehaviour && m.Model.UserEmbeddings) tables += m.Users * d;
        ManifestChecks.Holds(Path.Combine(folder, "model.safetensors"), 4 * tables, $"the embedding tables of {m.Users} users and {m.Items} items at dimension {d}");
        if (m.TextWidth > 0) ManifestChecks.Holds(Path.Combine(folder, "text.safetensors"), 4L * m.Items * m.TextWidth, $"{m.Items} item text vectors of width {m.TextWidth}");
        if (m.Collaborative is { } co)
        {
            c.Count("Collaborative.Rank", co.Rank, Math.Min(m.Items, Ranking.ItemIndex.MaxDimension / 2));
            if (co.Rank == 0) throw c.Error("Collaborative.Rank", "is 0.");
            if (!(co.Lambda > 0) || double.IsInfinity(co.Lambda)) throw c.Error("Collaborative.Lambda", $"is {co.Lambda}; it must be positive and finite.");
            if (!(co.Weight > 0) || float.IsInfinity(co.Weight)) throw c.Error("Collaborative.Weight", $"is {co.Weight}; a served dimension has a positive, finite weight.");
            ManifestChecks.Holds(Path.Combine(folder, "collaborative.safetensors"), 8L * m.Items * co.Rank, $"the collaborative factors of {m.Items} items at rank {co.Rank}");
        }
        if (m.Sequential is { } sq)
        {
            if (sq.Model is null) throw c.Error("Sequential.Model", "is missing.");
            try
            {
                sq.Model.Validate();
            }
            catch (ArgumentException ex)
            {
                throw c.Error("Sequential.Model", $"is invalid: {ex.Message}");
            }
            if (!(sq.Weight > 0) || float.IsInfinity(sq.Weight)) throw c.Error("Sequential.Weight", $"is {sq.Weight}; a served dimension has a positive, finite weight.");
            ManifestChecks.Holds(Path.Combine(folder, "sequential.safetensors"), 4L * (m.Items + 2 + sq.Model.MaxLength) * sq.Model.Hidden,
                $"the sequential model's embeddings of {m.Items} items and {sq.Model.MaxLength} positions at width {sq.Model.Hidden}");
        }
        if (m.FriendItems is { } fi && (!(fi.Weight > 0) || float.IsInfinity(fi.Weight)))
            throw c.Error("FriendItems.Weight", $"is {fi.Weight}; a served dimension has a positive, finite weight.");
        if (m.NewUserFriendItems is { } nu)
        {
            if (nu.Length == 0 || nu[0] is null || nu[0].Items != 0) throw c.Error("NewUserFriendItems", "must start with the weight for 0 items.");
            for (int j = 0; j < nu.Length; j++)
            {
                if (nu[j] is null) throw c.Error($"NewUserFriendItems[{j}]", "is null.");
                if (j > 0 && nu[j].Items <= nu[j - 1].Items) throw c.Error($"NewUserFriendItems[{j}].Items", $"is {nu[j].Items}; the history lengths must ascend strictly.");
                if (!(nu[j].Weight >= 0) || float.IsInfinity(nu[j].Weight)) throw c.Error($"NewUserFriendItems[{j}].Weight", $"is {nu[j].Weight}; a weight is finite and ≥ 0.");
            }
            if (nu.All(p => p.Weight == 0)) throw c.Error("NewUserFriendItems", "holds no positive weight; a served dimension has one.");
        }
    }

    private static bool IsRecommenderTensor(string name) => !name.StartsWith("items.text_encoder.", StringComparison.Ordinal);

    /// <summary>
    /// Loads a folder written by <see cref="Save"/>. Before anything is built: an interrupted save is repaired
    /// (<see cref="AtomicFile.Recover"/>), every file is checked against checksums.json, and recommender.json is checked
    /// against itself (ids unique, counts equal, indices in range) and against the weights files' sizes; weights with
    /// NaN or ±∞ are rejected by tensor name.
    /// </summary>
    /// <exception cref="InvalidDataException">
    /// The folder is not a HierRec recommender, was written before the TorchSharp port (format version 1), fails its
    /// checksums, or its files disagree (the file and field are named).
    /// </exception>
    /// <param name="folder">The folder.</param>
    /// <param name="device">Where the model goes (CPU when null); see <see cref="RecommenderOptions.Device"/>.</param>
    public static HierarchicalRecommender Load(string folder, TorchSharp.torch.Device? device = null) => LoadCore(folder, device, verified: false);

    /// <summary>As <see cref="Load(string, TorchSharp.torch.Device?)"/>; <paramref name="verified"/>: the enclosing folder's checksums already covered this one.</summary>
    internal static HierarchicalRecommender LoadCore(string folder, TorchSharp.torch.Device? device, bool verified)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (!verified) AtomicFile.Recover(folder);
        var manifest = ManifestJson.Read<Manifest>(folder, "recommender.json", "HierarchicalRecommender", "hierrec-hierarchical", FormatVersion, m => (m.Format, m.Version),
            firstTorchVersion: 2, oldestReadable: 2);
        // One pass of hashing covers the whole tree (bert/, concepts/); the sub-folder loads below do not repeat it.
        if (!verified && (manifest.Version >= 3 || FolderChecksums.Present(folder))) FolderChecksums.Verify(folder);
        bool covered = verified || FolderChecksums.Present(folder);
        Check(manifest, folder);
        ProfileEncoder? profile = null;
        if (manifest.Profile is not null)
        {
            using var generator = new torch.Generator(0);
            profile = new ProfileEncoder(manifest.Profile, generator);
        }
        var model = new HierarchicalModel(manifest.Users, manifest.Items, profile, manifest.TextWidth, manifest.Model, 0);
        BertModel? bert = null;
        HierarchicalRecommender? recommender = null;
        Fusion.SequentialDimension? sequential = null;
        ConceptModel? conceptModel = null;
        try
        {
            TorchCheckpoint.Load(model, Path.Combine(folder, "model.safetensors"), IsRecommenderTensor);
            if (manifest.TextWidth > 0)
            {
                string textPath = Path.Combine(folder, "text.safetensors");
                var text = TorchCheckpoint.Read(textPath);
                try
                {
                    model.ItemTower.TextVectors = text.TryGetValue("text", out var t) ? t : throw new InvalidDataException($"{textPath}: tensor 'text' is missing.");
                }
                catch (ArgumentException ex)
                {
                    throw new InvalidDataException($"{textPath}: {ex.Message}", ex);
                }
                finally
                {
                    foreach (var v in text.Values) v.Dispose();
                }
            }
            model.ItemTower.Warm = manifest.Warm;
            if (device is not null && device.type != DeviceType.CPU) model.to(device);
            var users = new IdMap();
            foreach (var id in manifest.UserIds) users.GetOrAdd(id);
            var items = new IdMap();
            foreach (var id in manifest.ItemIds) items.GetOrAdd(id);
            var context = UserContext.Create(manifest.Profiles, manifest.Histories, manifest.Neighbours, manifest.Hops);
            string bertFolder = Path.Combine(folder, "bert");
            bert = Directory.Exists(bertFolder) ? BertModel.LoadCore(bertFolder, new BertLoadOptions { AllowMissingHeads = true }, device, verified: covered) : null;
            model.RefreshBehaviourTable(context);
            string indexPath = Path.Combine(folder, "items.hrix");
            float[] savedRows;
            using (var saved = ItemIndex.Load(indexPath))
            {
                if (saved.Count != manifest.Items || saved.Dimension != manifest.Model.Dimension)
                    throw new InvalidDataException($"{indexPath}: the index holds {saved.Count}×{saved.Dimension} vectors; the manifest declares {manifest.Items}×{manifest.Model.Dimension}.");
                savedRows = saved.CopyRows();
            }
            recommender = new HierarchicalRecommender(model, context, users, items, bert, null, (savedRows, indexPath));
            Fusion.CollaborativeDimension? collaborative = null;
            if (manifest.Collaborative is { } co)
            {
                string path = Path.Combine(folder, "collaborative.safetensors");
                var factors = TorchCheckpoint.Read(path);
                try
                {
                    float[] Factor(string name) => factors.TryGetValue(name, out var t) ? TorchInterop.ToFloats(t) : throw new InvalidDataException($"{path}: tensor '{name}' is missing.");
                    collaborative = Fusion.CollaborativeDimension.FromFactors(manifest.Items, co.Rank, co.Lambda, Factor("history"), Factor("candidates"), path);
                }
                finally
                {
                    foreach (var v in factors.Values) v.Dispose();
                }
            }
            sequential = manifest.Sequential is { } sq ? Fusion.SequentialDimension.Load(Path.Combine(folder, "sequential.safetensors"), manifest.Items, sq.Model) : null;
            if (collaborative is not null || sequential is not null)
            {
                recommender.AttachFusion(new Fusion.DimensionFusion(recommender._itemArray, manifest.Model.Dimension, collaborative, manifest.Collaborative?.Weight ?? 0f, sequential, manifest.Sequential?.Weight ?? 0f));
                sequential = null; // the recommender's now
            }
            if (manifest.FriendItems is { } friendItems) recommender._friendItems = recommender.NewFriendItems(friendItems.Weight);
            if (manifest.NewUserFriendItems is { } newUsers) recommender.AttachNewUserFriendItems(newUsers.Select(p => (p.Items, p.Weight)).ToArray());
            string concepts = Path.Combine(folder, "concepts");
            if (Directory.Exists(concepts))
            {
                conceptModel = ConceptModel.LoadCore(concepts, recommender._itemVectors, verified: covered);
                if (conceptModel.DescriptionVectors is not null && conceptModel.DescribedUserRows != recommender._users.Count)
                    throw new InvalidDataException($"{Path.Combine(concepts, "concept.safetensors")}: description_vectors has {conceptModel.DescribedUserRows} rows; the recommender has {recommender._users.Count} users.");
                recommender._concepts = new RefCounted<ConceptModel>(conceptModel);
                conceptModel = null; // the recommender's now
            }
            return recommender;
        }
        catch
        {
            // A folder that fails to load leaves nothing behind in native memory: what was built is freed now, not left
            // to the GC (which never frees a libtorch module's memory).
            conceptModel?.Dispose();
            sequential?.Dispose();
            if (recommender is not null) recommender.Dispose();
            else
            {
                model.Dispose();
                bert?.Dispose();
            }
            throw;
        }
    }
}

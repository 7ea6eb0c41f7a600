using HierRec.Serialization;
using HierRec.Text;
using HierRec.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace HierRec.Concepts;

/// <summary>Persistence: concept.json, concept.safetensors, bert/ and item_words.json, written atomically and verified on load.</summary>
public sealed partial class ConceptModel
{
    /// <summary>
    /// Format version of saved concept folders: 2 since the TorchSharp port, 3 with word steering, 4 with the description
    /// vectors of text cold start's like-minded users (2 and 3 still load, without what came later).
    /// </summary>
    public const int FormatVersion = 4;

    private sealed record Manifest(string Format, int Version, int Dimension, int MaxLength, int MaxHistory, float SteeringWeight, float ColdSteeringWeight, float PositiveThreshold, float NegativeThreshold, ConceptCues Cues,
        float WordSteeringWeight = 0, float ColdWordSteeringWeight = 0, float NegativeFallbackThreshold = float.PositiveInfinity, int ColdNeighbours = 0, string[]? GenericWords = null);

    /// <summary>Writes concept.json, concept.safetensors (both encoders) and bert/ into <paramref name="folder"/>, atomically.</summary>
    public void Save(string folder)
    {
        ThrowIfDisposed();
        var manifest = new Manifest("hierrec-concepts", FormatVersion, Encoder.Dimension, Encoder.MaxLength, Interest.MaxHistory, SteeringWeight, ColdSteeringWeight, PositiveThreshold, NegativeThreshold, Encoder.Parser.Cues,
            WordSteeringWeight, ColdWordSteeringWeight, NegativeFallbackThreshold, ColdNeighbours, _genericWords.Order(StringComparer.Ordinal).ToArray());
        var bytes = ManifestJson.Serialize(manifest);
        AtomicFile.WriteDirectory(folder, dir =>
        {
            AtomicFile.Write(Path.Combine(dir, "concept.json"), s => s.Write(bytes));
            using var concepts = ItemConcepts is null ? null : torch.tensor(ItemConcepts, [ItemCount, Dimension]);
            using var described = DescriptionVectors is null ? null : torch.tensor(DescriptionVectors, [DescribedUserRows, Dimension]);
            TorchCheckpoint.Save(Path.Combine(dir, "concept.safetensors"),
                TorchCheckpoint.State(Encoder).Select(p => new KeyValuePair<string, Tensor>("concept." + p.Key, p.Value))
                    .Concat(TorchCheckpoint.State(Interest).Select(p => new KeyValuePair<string, Tensor>("interest." + p.Key, p.Value)))
                    .Concat(concepts is null ? [] : [new KeyValuePair<string, Tensor>("item_concepts", concepts)])
                    .Concat(described is null ? [] : [new KeyValuePair<string, Tensor>("description_vectors", described)]));
            Encoder.Bert.Save(Path.Combine(dir, "bert"));
            ItemWords?.Save(Path.Combine(dir, "item_words.json"));
        });
    }

    /// <summary>Loads a folder written by <see cref="Save"/>, over the given item vectors.</summary>
    /// <exception cref="InvalidDataException">The folder is not a concept model or disagrees with <paramref name="items"/> (named).</exception>
    public static ConceptModel Load(string folder, Tensor items) => LoadCore(folder, items, verified: false);

    /// <summary>As <see cref="Load(string, Tensor)"/>; <paramref name="verified"/>: the enclosing folder's checksums already covered this one.</summary>
    internal static ConceptModel LoadCore(string folder, Tensor items, bool verified)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (!verified) AtomicFile.Recover(folder);
        var manifest = ManifestJson.Read<Manifest>(folder, "concept.json", "ConceptModel", "hierrec-concepts", FormatVersion, m => (m.Format, m.Version), firstTorchVersion: 2, oldestReadable: 2);
        string path = Path.Combine(folder, "concept.json");
        if (!verified && FolderChecksums.Present(folder)) FolderChecksums.Verify(folder);
        var c = new ManifestChecks(path);
        c.Count("Dimension", manifest.Dimension, Ranking.ItemIndex.MaxDimension);
        c.Count("MaxLength", manifest.MaxLength, 8192);
        c.Count("MaxHistory", manifest.MaxHistory, 100_000);
        if (manifest.Cues is null) throw c.Error("Cues", "is missing.");
        if (!float.IsFinite(manifest.SteeringWeight) || manifest.SteeringWeight < 0) throw c.Error("SteeringWeight", $"is {manifest.SteeringWeight}; it must be finite and ≥ 0.");
        if (!float.IsFinite(manifest.WordSteeringWeight) || manifest.WordSteeringWeight < 0) throw c.Error("WordSteeringWeight", $"is {manifest.WordSteeringWeight}; it must be finite and ≥ 0.");
        if (!float.IsFinite(manifest.ColdWordSteeringWeight) || manifest.ColdWordSteeringWeight < 0) throw c.Error("ColdWordSteeringWeight", $"is {manifest.ColdWordSteeringWeight}; it must be finite and ≥ 0.");
        if (manifest.ColdNeighbours is < 0 or > 1_000_000) throw c.Error("ColdNeighbours", $"is {manifest.ColdNeighbours}; it must be in [0, 1000000] (0: off).");
        var genericWords = manifest.GenericWords ?? [];
        if (genericWords.Length > 1_000_000) throw c.Error("GenericWords", $"lists {genericWords.Length} words; at most 1000000.");
        for (int j = 0; j < genericWords.Length; j++)
            if (string.IsNullOrWhiteSpace(genericWords[j]) || genericWords[j].Length > 256) throw c.Error($"GenericWords[{j}]", "is empty or longer than 256 characters.");
        if (float.IsNaN(manifest.ColdSteeringWeight) || manifest.ColdSteeringWeight < 0) throw c.Error("ColdSteeringWeight", $"is {manifest.ColdSteeringWeight}; it must be ≥ 0 (+∞: rank by C⁺ alone).");
        // Thresholds may be ±∞ (a side of the filter switched off), never NaN.
        if (float.IsNaN(manifest.PositiveThreshold) || float.IsNaN(manifest.NegativeThreshold) || float.IsNaN(manifest.NegativeFallbackThreshold))
            throw c.Error("PositiveThreshold/NegativeThreshold/NegativeFallbackThreshold", "is NaN.");
        if (items.dim() != 2 || items.shape[1] != manifest.Dimension)
            throw new InvalidDataException($"{path}: concepts of width {manifest.Dimension} cannot serve item vectors {TorchInterop.ShapeString(items.shape)}.");
        // This folder's checksums (when present) covered bert/ as well.
        bool covered = verified || FolderChecksums.Present(folder);
        var bert = BertModel.LoadCore(Path.Combine(folder, "bert"), new BertLoadOptions { AllowMissingHeads = true }, items.device, verified: covered);
        ConceptEncoder? encoder = null;
        InterestEncoder? interest = null;
        Dictionary<string, Tensor>? tensors = null;
        try
        {
            bert.ApplyFineTuning(BertFineTuning.Frozen);
            using var generator = new Generator(0);
            encoder = new ConceptEncoder(bert, manifest.Dimension, generator, manifest.MaxLength, new DescriptionParser(manifest.Cues));
            interest = new InterestEncoder(manifest.Dimension, manifest.MaxHistory, generator);
            string weights = Path.Combine(folder, "concept.safetensors");
            tensors = TorchCheckpoint.Read(weights);
            TorchCheckpoint.Load(encoder, Strip(tensors, "concept."), weights);
            TorchCheckpoint.Load(interest, Strip(tensors, "interest."), weights);
            float[]? itemConcepts = null;
            if (tensors.TryGetValue("item_concepts", out var t))
            {
                if (t.dim() != 2 || t.shape[0] != items.shape[0] || t.shape[1] != manifest.Dimension)
                    throw new InvalidDataException($"{weights}: item_concepts is {TorchInterop.ShapeString(t.shape)}; the items are {TorchInterop.ShapeString(items.shape)}.");
                itemConcepts = Rows(t);
            }
            float[]? described = null;
            if (tensors.TryGetValue("description_vectors", out var dv))
            {
                if (dv.dim() != 2 || dv.shape[1] != manifest.Dimension)
                    throw new InvalidDataException($"{weights}: description_vectors is {TorchInterop.ShapeString(dv.shape)}; it must be users × {manifest.Dimension}.");
                described = Rows(dv);
                if (Serialization.FloatTensor.IndexOfNonFinite(described) is int bad and >= 0)
                    throw new InvalidDataException($"{weights}: description_vectors row {bad / manifest.Dimension} holds {described[bad]}; every value must be finite.");
            }
            if (manifest.ColdNeighbours > 0 && described is null)
                throw new InvalidDataException($"{path}: ColdNeighbours is {manifest.ColdNeighbours} but {weights} has no description_vectors.");
            if (items.device.type != DeviceType.CPU)
            {
                encoder.to(items.device);
                interest.to(items.device);
            }
            encoder.eval();
            interest.eval();
            return new ConceptModel(encoder, interest, items, manifest.PositiveThreshold, manifest.NegativeThreshold)
            {
                SteeringWeight = manifest.SteeringWeight, ColdSteeringWeight = manifest.ColdSteeringWeight, ItemConcepts = itemConcepts,
                WordSteeringWeight = manifest.WordSteeringWeight, ColdWordSteeringWeight = manifest.ColdWordSteeringWeight,
                NegativeFallbackThreshold = manifest.NegativeFallbackThreshold,
                DescriptionVectors = described, ColdNeighbours = manifest.ColdNeighbours, GenericWords = genericWords.ToHashSet(StringComparer.Ordinal),
                ItemWords = File.Exists(Path.Combine(folder, "item_words.json")) ? ItemWords.Load(Path.Combine(folder, "item_words.json"), (int)items.shape[0]) : null,
            };
        }
        catch
        {
            // A folder that fails to load leaves nothing behind in native memory.
            encoder?.Dispose();
            interest?.Dispose();
            bert.Dispose();
            throw;
        }
        finally
        {
            if (tensors is not null) foreach (var v in tensors.Values) v.Dispose();
        }
    }

    private static Dictionary<string, Tensor> Strip(IReadOnlyDictionary<string, Tensor> tensors, string prefix) =>
        tensors.Where(p => p.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(p => p.Key[prefix.Length..], p => p.Value, StringComparer.Ordinal);
}

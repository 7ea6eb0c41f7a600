using System.Text.Json;
using System.Text.Json.Serialization;

namespace HierRec;

/// <summary>The JSON manifests of saved folders: written as UTF-8 bytes, read back with errors that name the file.</summary>
internal static class ManifestJson
{
    // Thresholds may be ±∞ (a switched-off filter side); JSON has no literal for them, so they are written as strings.
    private static readonly JsonSerializerOptions Options = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>Largest manifest read (1 GiB): ids and histories of tens of millions of users fit; a runaway file does not.</summary>
    public const long MaxBytes = 1L << 30;

    public static byte[] Serialize<T>(T manifest) => JsonSerializer.SerializeToUtf8Bytes(manifest, Options);

    /// <summary>Reads <paramref name="fileName"/> in <paramref name="folder"/>; <paramref name="describe"/> gives (format, version) to check.</summary>
    /// <exception cref="FileNotFoundException">The file is missing.</exception>
    /// <exception cref="InvalidDataException">The file is not valid JSON of <typeparamref name="T"/> or has another format or version.</exception>
    public static T Read<T>(string folder, string fileName, string what, string format, int version, Func<T, (string Format, int Version)> describe,
        int firstTorchVersion = 0, int? oldestReadable = null) where T : class
    {
        ArgumentNullException.ThrowIfNull(folder);
        string path = Path.Combine(folder, fileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{folder}: {fileName} is missing; not a saved {what}.", path);
        if (new FileInfo(path).Length > MaxBytes) throw new InvalidDataException($"{path}: {new FileInfo(path).Length} bytes; manifests over {MaxBytes} bytes are not read.");
        T manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<T>(File.ReadAllBytes(path), Options) ?? throw new InvalidDataException($"{path}: empty.");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path}: not valid ({ex.Message}).", ex);
        }
        var (f, v) = describe(manifest);
        if (f == format && v < firstTorchVersion)
            throw new InvalidDataException($"{path}: this {what} was saved in format version {v}, before HierRec moved to TorchSharp; this HierRec reads version {version} only. "
                + "Its weights are not loaded (nothing is half-loaded): fit the model again with this version and save it.");
        if (f != format || v > version || v < (oldestReadable ?? version))
            throw new InvalidDataException($"{path}: format {f} version {v} is not supported ({format} {(oldestReadable is int o && o < version ? $"{o} to {version}" : version)}).");
        return manifest;
    }
}

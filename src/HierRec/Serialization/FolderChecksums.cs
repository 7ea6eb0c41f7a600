using System.Security.Cryptography;
using System.Text.Json;

namespace HierRec.Serialization;

/// <summary>
/// The integrity manifest of a folder HierRec writes: <c>checksums.json</c>, every other file's relative path, size and
/// SHA-256, written last, so its presence also marks the folder complete. <see cref="Verify"/> re-hashes every file
/// (about 1 GB/s here, so a few milliseconds for a model folder) and fails on a changed, missing, or unlisted file.
/// </summary>
public static class FolderChecksums
{
    /// <summary>The manifest's file name.</summary>
    public const string FileName = "checksums.json";

    private const string Format = "hierrec-checksums";
    private const int Version = 1;

    private sealed record FileEntry(string Path, long Bytes, string Sha256);

    private sealed record Manifest(string Format, int Version, FileEntry[] Files);

    /// <summary>Hashes every file under <paramref name="folder"/> and writes the manifest atomically.</summary>
    public static void Write(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        var files = Files(folder).Select(rel =>
        {
            string path = Path.Combine(folder, rel);
            return new FileEntry(rel, new FileInfo(path).Length, Hash(path));
        }).ToArray();
        var bytes = JsonSerializer.SerializeToUtf8Bytes(new Manifest(Format, Version, files), new JsonSerializerOptions { WriteIndented = true });
        AtomicFile.Write(Path.Combine(folder, FileName), s => s.Write(bytes));
    }

    /// <summary>True when <paramref name="folder"/> carries a manifest.</summary>
    public static bool Present(string folder) => File.Exists(Path.Combine(folder, FileName));

    /// <summary>
    /// Checks every file against the manifest: present, same size, same SHA-256, and no file the manifest does not list.
    /// </summary>
    /// <exception cref="InvalidDataException">The manifest is missing or malformed, or a file differs (named).</exception>
    public static void Verify(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        string path = Path.Combine(folder, FileName);
        if (!File.Exists(path)) throw new InvalidDataException($"{folder}: {FileName} is missing, so the folder's integrity cannot be checked (an incomplete save, or not written by HierRec).");
        if (new FileInfo(path).Length > 16 << 20) throw new InvalidDataException($"{path}: larger than 16 MB; not a checksum manifest.");
        Manifest manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<Manifest>(File.ReadAllBytes(path)) ?? throw new InvalidDataException($"{path}: empty.");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path}: not valid ({ex.Message}).", ex);
        }
        if (manifest.Format != Format || manifest.Version != Version || manifest.Files is null)
            throw new InvalidDataException($"{path}: format {manifest.Format} version {manifest.Version} is not a checksum manifest ({Format} {Version}).");
        var listed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in manifest.Files)
        {
            if (entry?.Path is null || entry.Sha256 is null) throw new InvalidDataException($"{path}: an entry without path or hash.");
            string file = FolderPaths.Confine(folder, entry.Path, path, "file");
            if (!listed.Add(entry.Path)) throw new InvalidDataException($"{path}: '{SafeTensors.Excerpt(entry.Path)}' is listed twice.");
            if (!File.Exists(file)) throw new InvalidDataException($"{folder}: {entry.Path} is missing ({FileName} lists it).");
            long bytes = new FileInfo(file).Length;
            if (bytes != entry.Bytes) throw new InvalidDataException($"{file}: {bytes} bytes; {FileName} recorded {entry.Bytes} (truncated or replaced).");
            if (!string.Equals(Hash(file), entry.Sha256, StringComparison.OrdinalIgnoreCase))
                throw new InvalidDataException($"{file}: SHA-256 differs from {FileName} (the file is corrupt or was changed after saving).");
        }
        var unlisted = Files(folder).FirstOrDefault(f => !listed.Contains(f));
        if (unlisted is not null) throw new InvalidDataException($"{folder}: {unlisted} is not listed in {FileName} (added after saving).");
    }

    /// <summary>Relative paths ('/'-separated, sorted) of every file under <paramref name="folder"/> except the manifest itself.</summary>
    private static IEnumerable<string> Files(string folder)
    {
        string root = Path.GetFullPath(folder);
        return Directory.EnumerateFiles(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, ReturnSpecialDirectories = false })
            .Select(f => Path.GetRelativePath(root, f).Replace(Path.DirectorySeparatorChar, '/'))
            .Where(f => f != FileName)
            .Order(StringComparer.Ordinal)
            .ToArray();
    }

    private static string Hash(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        return Convert.ToHexStringLower(SHA256.HashData(fs));
    }
}

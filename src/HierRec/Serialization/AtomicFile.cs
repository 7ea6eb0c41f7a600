namespace HierRec.Serialization;

/// <summary>
/// Writes a file so that readers see either the previous content or the complete new one, never a torn write:
/// the content goes to a temporary file in the same folder, is flushed to disk, then renamed over the target.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> atomically with <paramref name="write"/>.</summary>
    /// <remarks>If <paramref name="write"/> throws, the temporary file is deleted and the old file is untouched.</remarks>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full) ?? ".";
        Directory.CreateDirectory(dir);
        string temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>
    /// Writes a whole folder: <paramref name="write"/> fills a fresh sibling folder, which then replaces
    /// <paramref name="folder"/> by renames. If <paramref name="write"/> throws, the old folder is untouched.
    /// </summary>
    /// <remarks>
    /// The swap is two renames (old folder aside, new folder in place) followed by deleting the old one; a crash between
    /// the renames leaves the previous version in a sibling named <c>.{name}.old-*</c>, never a half-written folder.
    /// </remarks>
    public static void WriteDirectory(string folder, Action<string> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        ArgumentNullException.ThrowIfNull(write);
        string full = Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar);
        string parent = Path.GetDirectoryName(full) ?? ".";
        string name = Path.GetFileName(full);
        Directory.CreateDirectory(parent);
        if (File.Exists(full)) throw new IOException($"{full} is a file, not a folder.");
        string temp = Path.Combine(parent, $".{name}.{Guid.NewGuid():N}.tmp");
        Directory.CreateDirectory(temp);
        try
        {
            write(temp);
        }
        catch
        {
            try { Directory.Delete(temp, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
        string? old = null;
        if (Directory.Exists(full))
        {
            old = Path.Combine(parent, $".{name}.old-{Guid.NewGuid():N}");
            Directory.Move(full, old);
        }
        Directory.Move(temp, full);
        if (old is not null)
        {
            try { Directory.Delete(old, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}

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

    /// <summary>Test hook: called with (step, folder) after each step of <see cref="WriteDirectory"/>; a throw there is a crash at that point.</summary>
    internal static Action<string, string>? CrashPoint;

    /// <summary>
    /// Writes a whole folder: <paramref name="write"/> fills a fresh sibling folder, <see cref="FolderChecksums"/> hashes
    /// it (the manifest, written last, marks it complete), and it then replaces <paramref name="folder"/> by renames. If
    /// <paramref name="write"/> throws, the old folder is untouched and the partial copy is deleted.
    /// </summary>
    /// <remarks>
    /// <para>The swap is two renames (old folder aside to <c>.{name}.old-*</c>, new folder from <c>.{name}.*.tmp</c> into
    /// place) and deleting the old copy. A crash at any point leaves a complete copy: <see cref="Recover"/> (which every
    /// HierRec folder loader calls first) puts the newest complete, verified copy in place and deletes the debris.</para>
    /// <para>Saves of one folder are serialised by a lock file <c>.{name}.lock</c> beside it (held while saving and
    /// recovering, then removed).</para>
    /// </remarks>
    public static void WriteDirectory(string folder, Action<string> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        ArgumentNullException.ThrowIfNull(write);
        var (full, parent, name) = Names(folder);
        Directory.CreateDirectory(parent);
        if (File.Exists(full)) throw new IOException($"{full} is a file, not a folder.");
        using var guard = FolderLock.Acquire(parent, name, TimeSpan.FromSeconds(60))
            ?? throw new IOException($"{full}: another save of this folder has held {FolderLock.PathOf(parent, name)} for 60 s.");
        RecoverLocked(full, parent, name);
        string temp = Path.Combine(parent, $".{name}.{Guid.NewGuid():N}.tmp");
        Directory.CreateDirectory(temp);
        try
        {
            write(temp);
            FolderChecksums.Write(temp);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
        CrashPoint?.Invoke("written", full);
        string? old = null;
        if (Directory.Exists(full))
        {
            old = Path.Combine(parent, $".{name}.old-{Guid.NewGuid():N}");
            Directory.Move(full, old);
        }
        CrashPoint?.Invoke("moved-aside", full);
        Directory.Move(temp, full);
        CrashPoint?.Invoke("moved-in", full);
        if (old is not null) TryDelete(old);
    }

    /// <summary>
    /// Repairs <paramref name="folder"/> after an interrupted <see cref="WriteDirectory"/>: the newest complete copy
    /// whose checksums verify (a finished but unswapped new copy, else the folder itself, else the copy moved aside) is
    /// put in place, and every other copy is deleted. Does nothing while another process is saving the folder.
    /// </summary>
    public static void Recover(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (!NeedsRecovery(folder)) return; // nothing to repair: the usual case, no lock taken
        var (full, parent, name) = Names(folder);
        try
        {
            using var guard = FolderLock.Acquire(parent, name, TimeSpan.Zero);
            if (guard is null) return; // a save is running; it repairs before it writes
            RecoverLocked(full, parent, name); // releasing the guard also removes a lock file a crashed save left
        }
        catch (UnauthorizedAccessException)
        {
            // A read-only location: nothing can be repaired here; the load goes on with what is in place.
        }
    }

    /// <summary>Whether an interrupted save left something beside <paramref name="folder"/> for <see cref="Recover"/> to repair or remove.</summary>
    public static bool NeedsRecovery(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        var (_, parent, name) = Names(folder);
        return Directory.Exists(parent) && Directory.EnumerateFileSystemEntries(parent, $".{name}.*").Any();
    }

    private static void RecoverLocked(string full, string parent, string name)
    {
        var temps = Directory.GetDirectories(parent, $".{name}.*.tmp").Select(d => new DirectoryInfo(d)).OrderByDescending(d => d.CreationTimeUtc).ToList();
        var olds = Directory.GetDirectories(parent, $".{name}.old-*").Select(d => new DirectoryInfo(d)).OrderByDescending(d => d.LastWriteTimeUtc).ToList();
        if (temps.Count == 0 && olds.Count == 0) return;
        var complete = temps.FirstOrDefault(t => IsComplete(t.FullName));
        if (complete is not null)
        {
            // The interrupted save had finished writing: roll it forward.
            if (Directory.Exists(full))
            {
                string aside = Path.Combine(parent, $".{name}.old-{Guid.NewGuid():N}");
                Directory.Move(full, aside);
                olds.Insert(0, new DirectoryInfo(aside));
            }
            Directory.Move(complete.FullName, full);
            Diagnostics.HierRecTelemetry.FolderRecoveries.Add(1);
        }
        else if (!Directory.Exists(full) && olds.FirstOrDefault(o => !FolderChecksums.Present(o.FullName) || IsComplete(o.FullName)) is { } previous)
        {
            // Crashed between the two renames before the new copy was complete: the previous copy comes back.
            Directory.Move(previous.FullName, full);
            Diagnostics.HierRecTelemetry.FolderRecoveries.Add(1);
        }
        foreach (var debris in temps.Concat(olds))
            if (Directory.Exists(debris.FullName) && debris.FullName != full) TryDelete(debris.FullName);
    }

    private static bool IsComplete(string folder)
    {
        if (!FolderChecksums.Present(folder)) return false;
        try
        {
            FolderChecksums.Verify(folder);
            return true;
        }
        catch (InvalidDataException)
        {
            return false;
        }
    }

    private static (string Full, string Parent, string Name) Names(string folder)
    {
        string full = Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar);
        return (full, Path.GetDirectoryName(full) ?? ".", Path.GetFileName(full));
    }

    private static void TryDelete(string folder)
    {
        try { Directory.Delete(folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>An exclusive lock file beside a folder, removed on release.</summary>
    private sealed class FolderLock : IDisposable
    {
        private readonly FileStream _stream;
        private readonly string _path;

        private FolderLock(FileStream stream, string path) => (_stream, _path) = (stream, path);

        public static string PathOf(string parent, string name) => Path.Combine(parent, $".{name}.lock");

        /// <summary>The lock, waiting up to <paramref name="wait"/>; null if another holder keeps it longer.</summary>
        public static FolderLock? Acquire(string parent, string name, TimeSpan wait)
        {
            string path = PathOf(parent, name);
            var deadline = DateTime.UtcNow + wait;
            while (true)
            {
                try
                {
                    return new FolderLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None), path);
                }
                catch (IOException) when (DateTime.UtcNow < deadline)
                {
                    Thread.Sleep(50);
                }
                catch (IOException) when (File.Exists(path))
                {
                    return null;
                }
            }
        }

        public void Dispose()
        {
            try { File.Delete(_path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            _stream.Dispose();
        }
    }
}

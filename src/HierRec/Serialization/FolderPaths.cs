namespace HierRec.Serialization;

/// <summary>Paths read from files, confined to the folder that holds them.</summary>
internal static class FolderPaths
{
    /// <summary>
    /// <paramref name="relative"/> resolved inside <paramref name="folder"/>; an absolute path, a path that climbs out
    /// (<c>..</c>), or a symbolic link whose target is outside is an <see cref="InvalidDataException"/> naming
    /// <paramref name="source"/> and <paramref name="field"/>.
    /// </summary>
    public static string Confine(string folder, string relative, string source, string field)
    {
        string shown = SafeTensors.Excerpt(relative);
        if (relative.Length == 0 || relative.Contains('\0') || Path.IsPathRooted(relative) || relative.Contains('\\'))
            throw new InvalidDataException($"{source}: {field} '{shown}' is not a relative path inside the folder.");
        string root = Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        string full = Path.GetFullPath(Path.Combine(root, relative));
        if (!full.StartsWith(root, StringComparison.Ordinal))
            throw new InvalidDataException($"{source}: {field} '{shown}' points outside the folder {root}.");
        // A link inside the folder must not lead out of it either.
        var info = new FileInfo(full);
        if (info.Exists && info.LinkTarget is not null)
        {
            var target = info.ResolveLinkTarget(returnFinalTarget: true);
            if (target is null || !Path.GetFullPath(target.FullName).StartsWith(root, StringComparison.Ordinal))
                throw new InvalidDataException($"{source}: {field} '{shown}' is a link that leads outside the folder {root}.");
        }
        return full;
    }
}

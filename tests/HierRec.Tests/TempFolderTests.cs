namespace HierRec.Tests;

/// <summary>A test class with a temporary folder of its own per test (xUnit makes one instance a test), deleted after it.</summary>
public abstract class TempFolderTests(string prefix) : IDisposable
{
    /// <summary>The folder (not created: tests write into it or below it).</summary>
    protected string Dir { get; } = Path.Combine(Path.GetTempPath(), prefix + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(Dir)) Directory.Delete(Dir, recursive: true);
        GC.SuppressFinalize(this);
    }
}

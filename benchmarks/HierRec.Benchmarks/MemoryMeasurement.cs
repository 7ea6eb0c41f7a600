using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace HierRec.Benchmarks;

/// <summary>What the memory benchmarks share: a workload in a process of its own, and resident memory read after settling.</summary>
internal static class MemoryMeasurement
{
    /// <summary>Runs this benchmark program again with <paramref name="arguments"/> and returns its output (one table row).</summary>
    public static string RunChild(params string[] arguments)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet") start.ArgumentList.Add(typeof(MemoryMeasurement).Assembly.Location);
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var child = Process.Start(start)!;
        string line = child.StandardOutput.ReadToEnd().Trim();
        child.WaitForExit();
        if (child.ExitCode != 0) throw new InvalidOperationException($"'{string.Join(' ', arguments)}' failed (exit {child.ExitCode}): {line}");
        return line;
    }

    /// <summary>
    /// Prints the machine, then a table with one row per workload in <paramref name="modes"/>, each run in a child
    /// process of this program as "<paramref name="child"/> mode count", which prints its row.
    /// </summary>
    public static void RunWorkloads(TextWriter output, string child, IReadOnlyList<string> modes, int count, string unit, params string[] columns)
    {
        output.WriteLine($"{count} {unit} per workload; {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}");
        output.WriteLine($"| workload | {string.Join(" | ", columns)} |");
        output.WriteLine("|---|" + string.Concat(columns.Select(_ => "---:|")));
        foreach (var mode in modes)
            output.WriteLine(RunChild(child, mode, count.ToString(CultureInfo.InvariantCulture)));
    }

    /// <summary>
    /// Resident set size after a full, finalising GC that compacts and decommits the managed heap (otherwise the GC keeps
    /// freed segments committed, which looks like growth but is not a leak), and glibc giving freed pages back
    /// (malloc_trim). <c>HIERREC_PLAIN_GC=1</c> skips the compacting, decommitting collection.
    /// </summary>
    public static long SettledRss()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        if (Environment.GetEnvironmentVariable("HIERREC_PLAIN_GC") != "1")
        {
            System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
            GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        }
        if (OperatingSystem.IsLinux()) MallocTrim(0);
        string line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);
}

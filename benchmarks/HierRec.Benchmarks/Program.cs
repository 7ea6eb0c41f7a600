using BenchmarkDotNet.Running;

namespace HierRec.Benchmarks;

/// <summary>Runs the suites: <c>dotnet run -c Release --project benchmarks/HierRec.Benchmarks -- --filter '*Gemm*'</c>.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
    }
}

using System.Runtime.InteropServices;

namespace HierRec.Ranking.Kernels;

/// <summary>
/// A GEMM provider over a native CBLAS library (for example OpenBLAS's <c>cblas_sgemm</c>), found at run time with
/// <see cref="NativeLibrary.TryLoad(string, out IntPtr)"/>. Never required: the managed kernel is the default.
/// </summary>
public sealed unsafe class NativeBlasGemm : IGemmProvider
{
    private const int RowMajor = 101, NoTrans = 111, Trans = 112;

    private readonly delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> _sgemm;
    private readonly delegate* unmanaged<int, void> _setThreads;

    private NativeBlasGemm(string library, nint sgemm, nint setThreads)
    {
        Name = $"native BLAS ({library})";
        _sgemm = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)sgemm;
        _setThreads = (delegate* unmanaged<int, void>)setThreads;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>Default library names tried in order.</summary>
    public static IReadOnlyList<string> DefaultLibraryNames { get; } =
        ["libopenblas.so.0", "libopenblas.so", "openblas", "libopenblas.dll", "libopenblas.dylib", "libblas.so.3"];

    /// <summary>Loads the first library that exports <c>cblas_sgemm</c>; false when none is present.</summary>
    public static bool TryLoad(out NativeBlasGemm? provider, IEnumerable<string>? libraryNames = null)
    {
        foreach (var name in libraryNames ?? DefaultLibraryNames)
        {
            if (!NativeLibrary.TryLoad(name, out var handle)) continue;
            if (!NativeLibrary.TryGetExport(handle, "cblas_sgemm", out var sgemm)) continue;
            NativeLibrary.TryGetExport(handle, "openblas_set_num_threads", out var setThreads);
            provider = new NativeBlasGemm(name, sgemm, setThreads);
            return true;
        }
        provider = null;
        return false;
    }

    /// <summary>Sets the library's thread count when it exposes <c>openblas_set_num_threads</c>; returns whether it did.</summary>
    public bool TrySetThreads(int threads)
    {
        if (_setThreads == null) return false;
        _setThreads(threads);
        return true;
    }

    /// <inheritdoc />
    public void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        if (m == 0 || n == 0) return;
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            _sgemm(RowMajor, transA ? Trans : NoTrans, transB ? Trans : NoTrans, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
        }
    }
}

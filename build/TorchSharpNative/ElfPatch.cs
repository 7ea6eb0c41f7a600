// The ELF edit behind TorchSharpNative.targets. Plain C# with no MSBuild types, so the build task and the tests
// (tests/HierRec.Tests/Runtime/TorchRuntimeTests.cs) compile the same file.
//
// TorchSharp 0.107's libLibTorchSharp.so asks for one symbol, std::ios_base_library_init(), at version
// GLIBCXX_3.4.32 (GCC 13's libstdc++). A system whose libstdc++ is older (Debian 12: 3.4.30) refuses to load it. The
// fix makes two same-size edits to the *output copy* of the library:
//   1. the GLIBCXX_3.4.32 entry of .gnu.version_r gets VER_FLG_WEAK (0x2), so its absence is a warning, not an error;
//   2. the DT_NEEDED entry "libtorch.so" (a stub whose only content is its own DT_NEEDED libtorch_cpu.so, which
//      libLibTorchSharp.so also needs directly) is renamed in place to "libhrcxx.so", a shim built from
//      glibcxx_shim.cpp that defines the function and itself needs libtorch.so, so every library is still loaded.
// Renaming an existing string of the same length needs no new space in .dynstr, so no section moves; the library's
// RUNPATH already holds $ORIGIN, so the shim is found beside it. Nothing else in the file changes.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace HierRec.Build
{
    /// <summary>Reads and makes the two edits; every check throws <see cref="InvalidDataException"/> naming what failed.</summary>
    public static class ElfPatch
    {
        /// <summary>The library TorchSharp loads.</summary>
        public const string TargetLibrary = "libLibTorchSharp.so";

        /// <summary>The symbol version Debian 12's libstdc++ lacks.</summary>
        public const string MissingVersion = "GLIBCXX_3.4.32";

        /// <summary>The DT_NEEDED entry that is renamed; same length as <see cref="ShimName"/>.</summary>
        public const string ReplacedNeeded = "libtorch.so";

        /// <summary>The shim's file name.</summary>
        public const string ShimName = "libhrcxx.so";

        private const uint ShtDynamic = 6, ShtDynsym = 11, ShtGnuVerneed = 0x6ffffffe, ShtGnuVerdef = 0x6ffffffd;
        private const long DtNull = 0, DtNeeded = 1, DtSoname = 14, DtRpath = 15, DtRunpath = 29;
        private const ushort VerFlgWeak = 0x2;

        /// <summary>What <see cref="Inspect"/> found.</summary>
        public sealed class State
        {
            /// <summary>Creates the state.</summary>
            public State(bool requiresVersion, bool versionIsWeak, bool needsShim, bool needsReplaced)
            {
                RequiresVersion = requiresVersion;
                VersionIsWeak = versionIsWeak;
                NeedsShim = needsShim;
                NeedsReplaced = needsReplaced;
            }

            /// <summary>The file asks for <see cref="MissingVersion"/>.</summary>
            public bool RequiresVersion { get; }

            /// <summary>That requirement already carries VER_FLG_WEAK.</summary>
            public bool VersionIsWeak { get; }

            /// <summary>A DT_NEEDED entry names <see cref="ShimName"/>.</summary>
            public bool NeedsShim { get; }

            /// <summary>A DT_NEEDED entry names <see cref="ReplacedNeeded"/>.</summary>
            public bool NeedsReplaced { get; }

            /// <summary>Both edits are in place (or the file never needed them).</summary>
            public bool IsPatched => !RequiresVersion || (VersionIsWeak && NeedsShim);
        }

        /// <summary>Whether the shared library at <paramref name="path"/> defines the symbol version <paramref name="version"/>.</summary>
        public static bool DefinesVersion(string path, string version)
        {
            var bytes = File.ReadAllBytes(path);
            var elf = new Elf(bytes, path);
            foreach (var s in elf.Sections)
            {
                if (s.Type != ShtGnuVerdef) continue;
                var strtab = elf.Sections[(int)s.Link];
                long p = s.Offset;
                for (uint i = 0; i < s.Info; i++)
                {
                    // Elf64_Verdef: vd_version, vd_flags, vd_ndx, vd_cnt (u16 each), vd_hash, vd_aux, vd_next (u32 each).
                    ushort cnt = elf.U16(p + 6);
                    uint aux = elf.U32(p + 12), next = elf.U32(p + 16);
                    long a = p + aux;
                    for (int j = 0; j < cnt; j++)
                    {
                        if (elf.String(strtab, elf.U32(a)) == version) return true;
                        uint anext = elf.U32(a + 4);
                        if (anext == 0) break;
                        a += anext;
                    }
                    if (next == 0) break;
                    p += next;
                }
            }
            return false;
        }

        /// <summary>The system's libstdc++.so.6 as the dynamic loader would find it first, or null.</summary>
        public static string? FindSystemLibstdcxx()
        {
            var dirs = new[]
            {
                "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
                "/lib64", "/usr/lib64", "/lib", "/usr/lib",
            };
            foreach (var d in dirs)
            {
                var p = Path.Combine(d, "libstdc++.so.6");
                if (File.Exists(p)) return p;
            }
            return null;
        }

        /// <summary>Reads the state of the two edits in <paramref name="bytes"/> (the file named <paramref name="path"/>).</summary>
        public static State Inspect(byte[] bytes, string path)
        {
            var elf = new Elf(bytes, path);
            bool requires = false, weak = false;
            foreach (var (flagsAt, name) in VersionNeeds(elf))
            {
                if (name != MissingVersion) continue;
                requires = true;
                weak = (elf.U16(flagsAt) & VerFlgWeak) != 0;
            }
            bool shim = false, replaced = false;
            foreach (var (_, name) in Needed(elf))
            {
                shim |= name == ShimName;
                replaced |= name == ReplacedNeeded;
            }
            return new State(requires, weak, shim, replaced);
        }

        /// <summary>
        /// Makes both edits in <paramref name="bytes"/> in place. Idempotent: a patched file is left as it is.
        /// </summary>
        /// <exception cref="InvalidDataException">The file is not the library this edit was written for.</exception>
        public static State Patch(byte[] bytes, string path)
        {
            var before = Inspect(bytes, path);
            if (before.IsPatched) return before;
            var elf = new Elf(bytes, path);
            foreach (var (flagsAt, name) in VersionNeeds(elf))
                if (name == MissingVersion)
                    BitConverter.GetBytes((ushort)(elf.U16(flagsAt) | VerFlgWeak)).CopyTo(bytes, (int)flagsAt);

            if (!before.NeedsShim)
            {
                var entry = Needed(elf).Where(n => n.Name == ReplacedNeeded).Select(n => (long?)n.StringOffset).FirstOrDefault()
                    ?? throw new InvalidDataException($"{path}: no DT_NEEDED entry '{ReplacedNeeded}' to point at the shim; this TorchSharp build is not the one the fix was written for.");
                // The string must belong to this DT_NEEDED entry alone: no symbol, version or other dynamic entry may
                // point into it (linkers share string tails), or renaming it would rename them too.
                long start = entry, end = entry + ReplacedNeeded.Length;
                foreach (var (owner, offset) in StringReferences(elf))
                {
                    if (owner == "needed" && offset == entry) continue;
                    if (offset >= start && offset <= end)
                        throw new InvalidDataException($"{path}: the string '{ReplacedNeeded}' is shared with a {owner} entry; it cannot be renamed in place.");
                }
                var dynstr = elf.DynamicStrings;
                Encoding.ASCII.GetBytes(ShimName).CopyTo(bytes, (int)(dynstr.Offset + entry));
            }
            var after = Inspect(bytes, path);
            if (!after.IsPatched) throw new InvalidDataException($"{path}: the edit did not take effect.");
            return after;
        }

        private static IEnumerable<(long FlagsAt, string Name)> VersionNeeds(Elf elf) =>
            VerneedEntries(elf).Where(e => !e.IsFile).Select(e => (e.At + 4, elf.String(e.Strings, elf.U32(e.At + 8))));

        // Every Elf64_Verneed entry (IsFile: vn_version, vn_cnt (u16), vn_file, vn_aux, vn_next (u32)) and each of its
        // Elf64_Vernaux entries (vna_hash (u32), vna_flags, vna_other (u16), vna_name, vna_next (u32)), by position.
        private static IEnumerable<(bool IsFile, long At, Section Strings)> VerneedEntries(Elf elf)
        {
            foreach (var s in elf.Sections)
            {
                if (s.Type != ShtGnuVerneed) continue;
                var strtab = elf.Sections[(int)s.Link];
                long p = s.Offset;
                for (uint i = 0; i < s.Info; i++)
                {
                    yield return (true, p, strtab);
                    ushort cnt = elf.U16(p + 2);
                    long a = p + elf.U32(p + 8);
                    for (int j = 0; j < cnt; j++)
                    {
                        yield return (false, a, strtab);
                        uint anext = elf.U32(a + 12);
                        if (anext == 0) break;
                        a += anext;
                    }
                    uint next = elf.U32(p + 12);
                    if (next == 0) break;
                    p += next;
                }
            }
        }

        private static IEnumerable<(long StringOffset, string Name)> Needed(Elf elf)
        {
            var dyn = elf.Sections.First(s => s.Type == ShtDynamic);
            var strtab = elf.Sections[(int)dyn.Link];
            for (long p = dyn.Offset; p + 16 <= dyn.Offset + dyn.Size; p += 16)
            {
                long tag = (long)elf.U64(p);
                if (tag == DtNull) break;
                if (tag == DtNeeded)
                {
                    long v = (long)elf.U64(p + 8);
                    yield return (v, elf.String(strtab, (uint)v));
                }
            }
        }

        private static IEnumerable<(string Owner, long Offset)> StringReferences(Elf elf)
        {
            var dyn = elf.Sections.First(s => s.Type == ShtDynamic);
            for (long p = dyn.Offset; p + 16 <= dyn.Offset + dyn.Size; p += 16)
            {
                long tag = (long)elf.U64(p);
                if (tag == DtNull) break;
                if (tag is DtNeeded or DtSoname or DtRpath or DtRunpath)
                    yield return (tag == DtNeeded ? "needed" : "dynamic", (long)elf.U64(p + 8));
            }
            foreach (var s in elf.Sections.Where(s => s.Type == ShtDynsym))
                for (long p = s.Offset; p + 24 <= s.Offset + s.Size; p += 24)
                    yield return ("symbol", elf.U32(p));
            foreach (var (isFile, at, _) in VerneedEntries(elf))
                yield return isFile ? ("version file", elf.U32(at + 4)) : ("version", elf.U32(at + 8));
        }

        private sealed class Section
        {
            public Section(uint type, long offset, long size, uint link, uint info)
            {
                Type = type;
                Offset = offset;
                Size = size;
                Link = link;
                Info = info;
            }

            public uint Type { get; }
            public long Offset { get; }
            public long Size { get; }
            public uint Link { get; }
            public uint Info { get; }
        }

        private sealed class Elf
        {
            private readonly byte[] _b;
            private readonly string _path;

            public Elf(byte[] bytes, string path)
            {
                _b = bytes;
                _path = path;
                if (bytes.Length < 64 || bytes[0] != 0x7f || bytes[1] != (byte)'E' || bytes[2] != (byte)'L' || bytes[3] != (byte)'F')
                    throw new InvalidDataException($"{path}: not an ELF file.");
                if (bytes[4] != 2 || bytes[5] != 1) throw new InvalidDataException($"{path}: not a 64-bit little-endian ELF file.");
                long shoff = (long)U64(0x28);
                int shentsize = U16(0x3A), shnum = U16(0x3C);
                if (shentsize != 64 || shoff <= 0 || shoff + (long)shnum * 64 > bytes.Length)
                    throw new InvalidDataException($"{path}: section headers out of range.");
                var list = new List<Section>(shnum);
                for (int i = 0; i < shnum; i++)
                {
                    long h = shoff + i * 64L;
                    var s = new Section(U32(h + 4), (long)U64(h + 24), (long)U64(h + 32), U32(h + 40), U32(h + 44));
                    if (s.Type != 8 /* NOBITS */ && (s.Offset < 0 || s.Size < 0 || s.Offset + s.Size > bytes.Length))
                        throw new InvalidDataException($"{path}: section {i} lies outside the file.");
                    list.Add(s);
                }
                Sections = list;
                var dyn = list.FirstOrDefault(s => s.Type == ShtDynamic);
                if (dyn is null) throw new InvalidDataException($"{path}: no dynamic section.");
                DynamicStrings = list[(int)dyn.Link];
            }

            public IReadOnlyList<Section> Sections { get; }

            public Section DynamicStrings { get; }

            // ELF files of this edit are little-endian (checked above), as are the machines that build for them.
            public ushort U16(long at) => BitConverter.ToUInt16(_b, Check(at, 2));

            public uint U32(long at) => BitConverter.ToUInt32(_b, Check(at, 4));

            public ulong U64(long at) => BitConverter.ToUInt64(_b, Check(at, 8));

            public string String(Section table, uint offset)
            {
                if (offset >= table.Size) throw new InvalidDataException($"{_path}: string offset {offset} outside its table.");
                int start = (int)(table.Offset + offset);
                int end = Array.IndexOf(_b, (byte)0, start, (int)(table.Size - offset));
                if (end < 0) throw new InvalidDataException($"{_path}: unterminated string at {offset}.");
                return Encoding.ASCII.GetString(_b, start, end - start);
            }

            private int Check(long at, int n)
            {
                if (at < 0 || at + n > _b.Length) throw new InvalidDataException($"{_path}: read past the end at {at}.");
                return (int)at;
            }
        }
    }
}

#if !HIERREC_ELFPATCH_NO_TASK
namespace HierRec.Build
{
    using System.Diagnostics;
    using System.Runtime.InteropServices;
    using Microsoft.Build.Framework;

    /// <summary>
    /// The MSBuild task of TorchSharpNative.targets: where the system's libstdc++ lacks <see cref="ElfPatch.MissingVersion"/>,
    /// builds the shim and patches the output copy of libLibTorchSharp.so in every folder given.
    /// </summary>
    public sealed class FixTorchSharpGlibcxx : Microsoft.Build.Utilities.Task
    {
        /// <summary>Output folders (the build's OutDir, a PublishDir); native files are looked for at the top and in runtimes/linux-x64/native.</summary>
        [Required]
        public ITaskItem[] Folders { get; set; } = Array.Empty<ITaskItem>();

        /// <summary>glibcxx_shim.cpp.</summary>
        [Required]
        public string ShimSource { get; set; } = "";

        /// <summary>Where the shim is compiled (the project's obj folder).</summary>
        [Required]
        public string IntermediateDirectory { get; set; } = "";

        /// <summary>The C++ compiler (HierRecCxx, default g++).</summary>
        public string Compiler { get; set; } = "g++";

        /// <summary>Force the patch even where the system libstdc++ has the version (the tests' way to exercise it).</summary>
        public bool Force { get; set; }

        /// <inheritdoc />
        public override bool Execute()
        {
            if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux)) return true;
            var libstdcxx = ElfPatch.FindSystemLibstdcxx();
            if (libstdcxx is null)
            {
                Log.LogWarning("HierRec: no libstdc++.so.6 found in the usual folders; TorchSharp's native library is left as it is.");
                return true;
            }
            if (!Force && ElfPatch.DefinesVersion(libstdcxx, ElfPatch.MissingVersion))
            {
                Log.LogMessage(MessageImportance.Low, $"HierRec: {libstdcxx} defines {ElfPatch.MissingVersion}; no TorchSharp fix needed.");
                return true;
            }
            foreach (var folder in Folders)
            {
                foreach (var dir in new[] { folder.ItemSpec, Path.Combine(folder.ItemSpec, "runtimes", "linux-x64", "native") })
                {
                    var target = Path.Combine(dir, ElfPatch.TargetLibrary);
                    if (File.Exists(target) && !FixFolder(dir, target, libstdcxx)) return false;
                }
            }
            return !Log.HasLoggedErrors;
        }

        private bool FixFolder(string dir, string target, string libstdcxx)
        {
            byte[] bytes = File.ReadAllBytes(target);
            var state = ElfPatch.Inspect(bytes, target);
            var shimTarget = Path.Combine(dir, ElfPatch.ShimName);
            if (!state.RequiresVersion) return true;
            if (state.IsPatched && File.Exists(shimTarget)) return true;
            var shim = BuildShim(dir);
            if (shim is null) return false;
            try
            {
                ElfPatch.Patch(bytes, target);
            }
            catch (InvalidDataException e)
            {
                Log.LogError($"HierRec: cannot apply the {ElfPatch.MissingVersion} fix: {e.Message}");
                return false;
            }
            // Write a new file and rename it over the old one: the old one may be a hard link into the NuGet cache,
            // which must never change.
            var tmp = target + ".hierrec-tmp";
            File.WriteAllBytes(tmp, bytes);
            File.Delete(target);
            File.Move(tmp, target);
            if (File.Exists(shimTarget)) File.Delete(shimTarget);
            File.Copy(shim, shimTarget);
            Log.LogMessage(MessageImportance.Normal,
                $"HierRec: {libstdcxx} lacks {ElfPatch.MissingVersion}; patched {target} to load {ElfPatch.ShimName} instead (see README, 'TorchSharp on Debian 12').");
            return true;
        }

        private string? BuildShim(string nativeDir)
        {
            Directory.CreateDirectory(IntermediateDirectory);
            var output = Path.Combine(IntermediateDirectory, ElfPatch.ShimName);
            if (File.Exists(output) && File.GetLastWriteTimeUtc(output) >= File.GetLastWriteTimeUtc(ShimSource)) return output;
            var psi = new ProcessStartInfo(Compiler)
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            // MSBuild compiles this task for netstandard2.0, which has no ArgumentList: quote each argument.
            psi.Arguments = string.Join(" ", new[]
            {
                "-shared", "-fPIC", "-O2", "-o", output, ShimSource, "-L" + nativeDir, "-Wl,--no-as-needed", "-l:libtorch.so",
                "-Wl,--allow-shlib-undefined", "-Wl,-rpath,$ORIGIN",
            }.Select(a => "\"" + a.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\""));
            try
            {
                using var p = Process.Start(psi)!;
                string err = p.StandardError.ReadToEnd();
                p.StandardOutput.ReadToEnd();
                p.WaitForExit();
                if (p.ExitCode != 0)
                {
                    Log.LogError($"HierRec: building the {ElfPatch.MissingVersion} shim with '{Compiler}' failed (exit {p.ExitCode}): {err.Trim()}");
                    return null;
                }
            }
            catch (System.ComponentModel.Win32Exception)
            {
                Log.LogError($"HierRec: the system libstdc++ lacks {ElfPatch.MissingVersion}, which TorchSharp's native library needs, and the fix " +
                    $"needs a C++ compiler to build a 16 KB shim, but '{Compiler}' was not found. Install one ('apt-get install g++') or set " +
                    "the MSBuild property HierRecCxx to a compiler; see README, 'TorchSharp on Debian 12'.");
                return null;
            }
            return output;
        }
    }
}
#endif

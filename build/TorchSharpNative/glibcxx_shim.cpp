// HierRec's stand-in for std::ios_base_library_init(), which GCC 13's libstdc++ (GLIBCXX_3.4.32) added and which
// TorchSharp 0.107's libLibTorchSharp.so calls from its static initialisers. On a system whose libstdc++ predates
// GCC 13 (Debian 12, Ubuntu 22.04) the build links this file into libhrcxx.so next to libLibTorchSharp.so; see
// TorchSharpNative.targets. The body is what GCC 13's own definition does: construct the iostreams once.
#include <ios>

namespace std
{
    void ios_base_library_init() { static ios_base::Init init; }
}

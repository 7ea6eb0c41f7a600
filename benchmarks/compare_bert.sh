#!/usr/bin/env bash
# BERT-mini inference and train step, side by side in one run: PyTorch 1.13 (Debian) and HierRec on TorchSharp, in
# alternating rounds so the machine's drift hits both alike. Each measurement is its own process, so the peak memory is
# that engine's alone. (HierRec's managed engine was measured the same way until its removal; to run it again, check
# out commit 1ab766c in a worktree and run its own copy of this script.)
#   bash benchmarks/compare_bert.sh [rounds=2] [runs=10]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}
runs=${2:-10}
dotnet build -c Release benchmarks/HierRec.Benchmarks -v q -nologo > /dev/null
bin=benchmarks/HierRec.Benchmarks/bin/Release/net10.0/HierRec.Benchmarks.dll
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
for r in $(seq 1 "$rounds"); do
  echo "== round $r"
  /usr/bin/python3 benchmarks/compare_bert_torch.py --runs "$runs"
  dotnet "$bin" bert-torch "$runs"
done

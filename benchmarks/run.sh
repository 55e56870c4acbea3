#!/usr/bin/env bash
# The side-by-side comparison with PyTorch (one run, same thread count). Needs Debian's
# python3-torch and libopenblas0-pthread for the PyTorch column:
#   apt-get install -y python3-torch libopenblas0-pthread
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${1:-$(nproc)}"
# Optional second argument: only these groups, e.g. `bash benchmarks/run.sh 2 mlp,resnet`.
only=${2:+--only "$2"}
dotnet run -c Release --project benchmarks/DiffGen.Benchmarks -- --compare --threads "$threads" $only

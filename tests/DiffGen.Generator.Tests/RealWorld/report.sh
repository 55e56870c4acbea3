#!/usr/bin/env bash
# Prints the issue #11 corpus report (per file: accepted unchanged or not, gradients, first
# diagnostics) as Markdown. Usage: tests/DiffGen.Generator.Tests/RealWorld/report.sh [out.md]
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
out="${1:-$(mktemp --suffix=.md)}"
DIFFGEN_CORPUS_REPORT="$(realpath -m "$out")" dotnet test "$root/tests/DiffGen.Generator.Tests" -c Release \
    --filter "FullyQualifiedName~CorpusReportTests" > /dev/null || true
cat "$out"

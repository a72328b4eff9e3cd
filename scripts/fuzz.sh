#!/usr/bin/env bash
# Fuzzes the line codec and command parser with libFuzzer for a given time (docs/FUZZING.md).
#
#   scripts/fuzz.sh [seconds=60] [extra libFuzzer flags, e.g. -jobs=2 -workers=2]
#
# Builds the LiaisonFuzz target with Swift's libFuzzer integration (-sanitize=fuzzer: coverage
# instrumentation of the Swift code and libFuzzer's own main) in its own scratch path, then runs it
# on fuzz/corpus. New interesting inputs are written to fuzz/generated (ignored by git);
# an input that breaks an invariant of FuzzHarness is saved under fuzz/crashes/ and the script
# fails. LIAISON_FUZZ_CONFIG=release builds optimised (slower to build, faster to run).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
config=${LIAISON_FUZZ_CONFIG:-debug}
scratch=${LIAISON_FUZZ_SCRATCH:-.build-fuzz}

echo "== build LiaisonFuzz ($config, -sanitize=fuzzer) in $scratch"
# -parse-as-library: no top-level code, libFuzzer supplies main; FUZZING swaps the corpus-replay
# @main for the LLVMFuzzerTestOneInput entry point. Only Swift code is instrumented (-Xswiftc),
# so the C dependencies (BoringSSL) build as usual.
swift build -c "$config" --scratch-path "$scratch" --product LiaisonFuzz \
    -Xswiftc -sanitize=fuzzer -Xswiftc -DFUZZING -Xswiftc -parse-as-library
binary="$(swift build -c "$config" --scratch-path "$scratch" --show-bin-path)/LiaisonFuzz"

mkdir -p fuzz/crashes fuzz/generated fuzz/regressions
echo "== fuzz for ${seconds}s"
# The first corpus directory receives new inputs; the seeds stay as written.
"$binary" fuzz/generated fuzz/corpus fuzz/regressions \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=5 -max_len=8192 \
    -artifact_prefix=fuzz/crashes/ -print_final_stats=1 "$@"

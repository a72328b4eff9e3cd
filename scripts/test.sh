#!/usr/bin/env bash
# The README's test command: every test, against a real, private, throwaway PostgreSQL.
#
#   scripts/test.sh [extra `swift test` arguments, e.g. --filter LiaisonCoreTests]
#
# 1. installs missing Debian packages (libpq-dev, postgresql), 2. checks formatting,
# 3. builds the executables the CLI and daemon tests run, 4. replays the fuzz corpus and fuzzes
# the codec for LIAISON_FUZZ_SECONDS (default 30; 0 skips), 5. starts a PostgreSQL cluster owned
# by the `postgres` user on a private port and socket directory, 6. runs `swift test`,
# 7. stops the cluster, whatever happened.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/ensure-deps.sh

port=${LIAISON_TEST_PG_PORT:-55439}
# Before the long builds: a taken port would otherwise fail the run half an hour in.
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "test: port $port is taken (another PostgreSQL?); set LIAISON_TEST_PG_PORT to a free port" >&2
    exit 1
fi

echo "== format lint"
swift format lint --strict --recursive Sources Tests Package.swift

echo "== build"
swift build --build-tests

# The seed corpus (and any saved regressions) through the fuzz target's checks, without libFuzzer.
echo "== fuzz corpus replay"
fuzz_inputs=(fuzz/corpus)
if [ -d fuzz/regressions ]; then fuzz_inputs+=(fuzz/regressions); fi
"$(swift build --show-bin-path)/LiaisonFuzz" "${fuzz_inputs[@]}"

# Then libFuzzer itself, briefly (docs/FUZZING.md). Its instrumented build is a second build
# (about 8 minutes cold on 2 cores, seconds when .build-fuzz is warm). LIAISON_FUZZ_SECONDS=0
# skips it for a quick local run; CI runs it.
fuzz_seconds=${LIAISON_FUZZ_SECONDS:-30}
if [ "$fuzz_seconds" -gt 0 ]; then
    scripts/fuzz.sh "$fuzz_seconds"
fi

pgdir=$(mktemp -d /tmp/liaison-test-pg.XXXXXX)
chmod 755 "$pgdir"
cleanup() { scripts/pg-cluster.sh stop "$pgdir" || true; rm -rf "$pgdir"; }
trap cleanup EXIT
echo "== postgresql on 127.0.0.1:$port ($pgdir)"
export LIAISON_TEST_DATABASE_URL
LIAISON_TEST_DATABASE_URL=$(scripts/pg-cluster.sh start "$pgdir" "$port")
export LIAISON_BIN_DIR
LIAISON_BIN_DIR="$(swift build --show-bin-path)"

echo "== test"
# One test at a time: on two cores, parallel suites that each start daemons, clusters and fault
# proxies starved one another (an in-process daemon's storage executor is shared by the whole
# test process), and the timing-dependent promises then failed for reasons of the test bed.
swift test --skip-build --no-parallel "$@"

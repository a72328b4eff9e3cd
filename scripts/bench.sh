#!/usr/bin/env bash
# The benchmark of docs/BENCHMARKS.md, set up and torn down in one command:
#
#   scripts/bench.sh [liaisonctl bench arguments, e.g. --messages 50000 --publishers 1,16 --runs 3]
#
# Builds the release binaries (unless LIAISON_BENCH_BIN names a folder that has them), starts a
# private PostgreSQL cluster with stock durability (fsync=on, synchronous_commit=on) on
# LIAISON_BENCH_PG_PORT (default 55491), migrates a fresh `bench` database, adds the account
# `benchpub` allowed to publish `bench.>`, starts `liaisond` with no per-account publish rate limit,
# runs `liaisonctl bench` (which measures the raw COPY baseline in the same invocation), and stops
# the daemon and the cluster whatever happened (scripts/lib/bench-env.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/bench-env.sh

bench_setup
bench_start_daemon
LIAISON_TOKEN=$token "$bin/liaisonctl" bench --server "$listen" --account benchpub "$@"

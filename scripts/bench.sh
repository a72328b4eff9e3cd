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
# the daemon and the cluster whatever happened.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -n "${LIAISON_BENCH_BIN:-}" ]; then
    bin=$LIAISON_BENCH_BIN
else
    swift build -c release --product liaisond >&2
    swift build -c release --product liaisonctl >&2
    bin=$(swift build -c release --show-bin-path)
fi
port=${LIAISON_BENCH_PG_PORT:-55491}
listen=${LIAISON_BENCH_LISTEN:-127.0.0.1:7498}
pgdir=$(mktemp -d /tmp/liaison-bench-pg.XXXXXX)
chmod 755 "$pgdir"
daemon=""
cleanup() {
    if [ -n "$daemon" ]; then kill "$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true; fi
    scripts/pg-cluster.sh stop "$pgdir" >/dev/null 2>&1 || true
    rm -rf "$pgdir"
}
trap cleanup EXIT

server_url=$(scripts/pg-cluster.sh start "$pgdir" "$port")
psql "$server_url" -qc 'CREATE DATABASE bench'
db=${server_url%/*}/bench
export LIAISON_DATABASE_URL=$db
"$bin/liaisonctl" migrate >&2
"$bin/liaisonctl" account add benchpub --kind entity >&2
"$bin/liaisonctl" acl grant benchpub pub 'bench.>' >&2
token=$("$bin/liaisonctl" token issue benchpub)

LIAISON_LIMITS_PUBLISH_RATE_PER_SECOND=0 "$bin/liaisond" --database-url "$db" --listen "$listen" \
    --log-level warning >"$pgdir/liaisond.log" 2>&1 &
daemon=$!
listening() { (exec 3<>"/dev/tcp/${listen%:*}/${listen##*:}") 2>/dev/null; }
for _ in $(seq 1 300); do
    if listening; then break; fi
    kill -0 "$daemon" 2>/dev/null || break
    sleep 0.1
done
listening || { echo "bench: liaisond did not listen on $listen" >&2; cat "$pgdir/liaisond.log" >&2; exit 1; }

LIAISON_TOKEN=$token "$bin/liaisonctl" bench --server "$listen" --account benchpub "$@"

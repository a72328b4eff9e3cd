#!/usr/bin/env bash
# The cross-daemon fan-out benchmark of docs/BENCHMARKS.md ("Fan-out across daemons"), set up and
# torn down in one command:
#
#   LIAISON_BENCH_BIN=<release bin> LIAISON_BENCH_BASE_BIN=<release bin of a build before fan-out> \
#       scripts/bench-fanout.sh [rounds, default 3] [messages per round, default 50000]
#
# One PostgreSQL cluster (stock durability) and database, the `liaisonctl bench` client of
# LIAISON_BENCH_BASE_BIN for every run. Each round runs, one after the other:
#   base      the build before fan-out, liaison_append without NOTIFY (migration 0004's body)
#   no-notify this build, the same function without NOTIFY (its follower only polls every 200 ms)
#   fan-out   this build with migration 0011's NOTIFY, one daemon
#   two       two daemons of this build on the database, half the publishers on each, at once
# with 16 publishers in all. Every rate is committed messages per second taken from the log
# itself: rows stored in the round over the span of their published_at stamps, so the two-daemon
# figure counts both daemons together. Prints one line per run and the medians.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/bench-env.sh
rounds=${1:-3}
messages=${2:-50000}
base_bin=${LIAISON_BENCH_BASE_BIN:?set LIAISON_BENCH_BASE_BIN to a release bin folder of the build to compare with}
bench_setup
second_listen=${listen%:*}:$(( ${listen##*:} + 1 ))

# liaison_append's body with and without the NOTIFY, as the migrations define it.
sed -n '/^CREATE OR REPLACE FUNCTION liaison_append(/,$p' migrations/0004_publication_time.sql >"$benchdir/without.sql"
sed -n '/^CREATE OR REPLACE FUNCTION liaison_append(/,$p' migrations/0011_fanout_notify.sql >"$benchdir/with.sql"

head_seq() { psql "$db" -Atc 'SELECT coalesce(max(seq), 0) FROM messages'; }
rate_since() {
    psql "$db" -Atc "SELECT round(count(*) / extract(epoch FROM max(published_at) - min(published_at)))
        FROM messages WHERE seq > $1"
}
client() { LIAISON_TOKEN=$token "$base_bin/liaisonctl" bench --account benchpub --runs 1 --json "$@" >/dev/null; }

second_daemon=""
start_second() {
    env LIAISON_LIMITS_PUBLISH_RATE_PER_SECOND=0 "$bin/liaisond" --database-url "$db" --listen "$second_listen" \
        --node-name bench-2 --log-level warning >>"$benchdir/liaisond-2.log" 2>&1 &
    second_daemon=$!
    for _ in $(seq 1 300); do
        if (exec 3<>"/dev/tcp/${second_listen%:*}/${second_listen##*:}") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "bench-fanout: second liaisond did not listen" >&2
    exit 1
}
stop_second() { kill "$second_daemon" 2>/dev/null || true; wait "$second_daemon" 2>/dev/null || true; }

declare -A results
for round in $(seq 1 "$rounds"); do
    for run in base no-notify fan-out two; do
        case $run in
            base | no-notify) psql "$db" -q -f "$benchdir/without.sql" ;;
            *) psql "$db" -q -f "$benchdir/with.sql" ;;
        esac
        saved_bin=$bin
        [ "$run" = base ] && bin=$base_bin
        bench_start_daemon
        [ "$run" = two ] && start_second
        before=$(head_seq)
        if [ "$run" = two ]; then
            client --server "$listen" --publishers 8 --messages $((messages / 2)) &
            first=$!
            client --server "$second_listen" --publishers 8 --messages $((messages / 2))
            wait "$first"
            stop_second
        else
            client --server "$listen" --publishers 16 --messages "$messages"
        fi
        bench_stop_daemon
        bin=$saved_bin
        rate=$(rate_since "$before")
        results[$run]="${results[$run]:-} $rate"
        echo "round $round $run: $rate msg/s"
    done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
base=$(echo "${results[base]}" | median)
for run in base no-notify fan-out two; do
    value=$(echo "${results[$run]}" | median)
    echo "median $run: $value msg/s (ratio to base $(awk -v v="$value" -v b="$base" 'BEGIN {printf "%.3f", v / b}'))"
done

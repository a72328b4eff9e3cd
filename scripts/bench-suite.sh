#!/usr/bin/env bash
# Every figure of docs/BENCHMARKS.md "Benchmark suite" in one invocation, on one private cluster
# and one release daemon (set-up and tear-down as scripts/bench.sh, scripts/lib/bench-env.sh):
#
#   scripts/bench-suite.sh [--runs 3] [--messages 50000] [--size 256] [--window 64]
#                          [--history 1000000] [--subscribers 1000] [--idle 10000] [--no-perf]
#
#  growth      16 publishers on an empty log, then again after --history messages were appended
#              through liaison_append (batches of 100 000, generate_series); audit and receipts
#              off for both, so the sealer does not spend the run sealing the history; after
#              each, 200 `from=<seq>` seeks to random seqs of the log (bench --seeks)
#  throughput  1 and 16 publishers with the raw COPY baseline (liaisonctl bench), then Redis XADD
#              with appendfsync always at the same counts, size and window (scripts/bench-redis.sh)
#  latency20   16 publishers paced to 20% of the 16-publisher peak just measured, 10 s per run;
#              then the same with 100 subscribers (publish→deliver latency)
#  fanout      1 publisher, --subscribers subscribers on bench.<run>.<sample>.>, 64-byte payloads
#  replay      16 publishers, then one subscriber replays what they stored (from=all)
#  dedupe      16 publishers without and with a unique id= per publish
#  perf        perf record -g of liaisond and the PostgreSQL backends during an 8 s 16-publisher run
#  idle        --idle idle authenticated connections with a subscription each; liaisond's RSS
#              growth per connection, the daemon restarted for each run
#
# Each case is `liaisonctl bench --runs R --json` (medians of R runs), appended as
# {"case": ..., "result": ...} to $LIAISON_BENCH_OUT/suite.jsonl (default
# /tmp/liaison-bench-suite.<time>); a summary with the project's targets is printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/bench-env.sh

runs=3
messages=50000
size=256
window=64
history=1000000
subscribers=1000
idle=10000
perf=yes
while [ $# -gt 0 ]; do
    case "$1" in
    --runs) runs=$2; shift 2 ;;
    --messages) messages=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --window) window=$2; shift 2 ;;
    --history) history=$2; shift 2 ;;
    --subscribers) subscribers=$2; shift 2 ;;
    --idle) idle=$2; shift 2 ;;
    --no-perf) perf=no; shift ;;
    *) echo "bench-suite: unknown argument $1" >&2; exit 64 ;;
    esac
done

out=${LIAISON_BENCH_OUT:-/tmp/liaison-bench-suite.$(date -u +%Y%m%dT%H%M%S)}
mkdir -p "$out"
results=$out/suite.jsonl
# 10 000 idle connections need as many descriptors in liaisonctl and in liaisond.
ulimit -n "$(ulimit -Hn)"

bench_setup
limits=(LIAISON_LIMITS_MAX_CONNECTIONS=20000 LIAISON_LIMITS_MAX_CONNECTIONS_PER_ACCOUNT=20000)
quiet=(LIAISON_AUDIT_ENABLED=false LIAISON_RECEIPTS_ENABLED=false)

lb() {
    LIAISON_TOKEN=$token "$bin/liaisonctl" bench --server "$listen" --account benchpub --json \
        --size "$size" --window "$window" "$@"
}
record() {
    local name=$1
    shift
    echo "bench-suite: $name: $*" >&2
    local json
    json=$("$@")
    printf '{"case": "%s", "load": "%s", "result": %s}\n' "$name" "$(cut -d' ' -f1-3 /proc/loadavg)" "$json" \
        >>"$results"
}
fill_history() {
    local batches=$(($1 / 100000))
    for _ in $(seq 1 "$batches"); do
        psql "$db" -qAt -c "SELECT cardinality(r.seqs) FROM (SELECT array_agg('bench.fill.m' || (g % 100)) t,
            array_agg('benchpub'::text) a, array_agg('{}'::text) h,
            array_agg(decode(repeat(md5(g::text), $((size / 32 + 1))), 'hex')) p
            FROM generate_series(1, 100000) g) s, LATERAL liaison_append(s.t, s.a, s.h, s.p, NULL, 0) r" >/dev/null
    done
    psql "$db" -qc 'VACUUM ANALYZE messages'
}

# growth: empty log, then with history.
bench_start_daemon "${quiet[@]}" "${limits[@]}"
record growth-0 lb --publishers 16 --messages "$messages" --runs "$runs" --no-copy
record seek-0 lb --seeks 200 --no-copy
bench_stop_daemon
echo "bench-suite: appending $history messages of history" >&2
fill_history "$history"
bench_start_daemon "${quiet[@]}" "${limits[@]}"
record "growth-$history" lb --publishers 16 --messages "$messages" --runs "$runs" --no-copy
record "seek-$history" lb --seeks 200 --no-copy
bench_stop_daemon

# The rest with the default settings (audit trail on).
bench_start_daemon "${limits[@]}"
record throughput lb --publishers 1,16 --messages "$messages" --runs "$runs"
record redis bash -c 'scripts/bench-redis.sh "$@" | python3 -c "import json,sys; print(json.dumps([json.loads(l) for l in sys.stdin]))"' \
    bench-redis --publishers 1,16 --messages "$messages" --size "$size" --window "$window" --runs "$runs"
peak=$(python3 -c 'import json,sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    if d["case"] == "throughput":
        print(next(r["messages_per_second"] for r in d["result"]["results"] if r["publishers"] == 16))' "$results")
rate=$(python3 -c "print(round($peak * 0.2 / 16, 1))")
record latency20 lb --publishers 16 --rate "$rate" --duration 10 --runs "$runs" --no-copy
record latency20-deliver lb --publishers 16 --subscribers 100 --rate "$rate" --duration 10 --runs "$runs" --no-copy
record fanout lb --publishers 1 --subscribers "$subscribers" --messages 2000 --size 64 --runs "$runs" --no-copy
record replay lb --publishers 16 --messages "$messages" --replay --runs "$runs" --no-copy
record dedupe-off lb --publishers 16 --messages "$messages" --runs "$runs" --no-copy
record dedupe-on lb --publishers 16 --messages "$messages" --dedupe --runs "$runs" --no-copy

if [ "$perf" = yes ] && [ -x /usr/bin/perf ]; then
    postmaster=$(head -1 "$benchdir/data/postmaster.pid" 2>/dev/null || true)
    pids=$bench_daemon
    if [ -n "$postmaster" ]; then
        pids=$pids,$(pgrep -d, -P "$postmaster")
    fi
    /usr/bin/perf record -g -o "$out/perf.data" -p "$pids" 2>"$out/perf-record.log" &
    perf_pid=$!
    sleep 1
    record perf-run lb --publishers 16 --duration 8 --runs 1 --no-copy
    kill -INT "$perf_pid"
    wait "$perf_pid" || true
    /usr/bin/perf report -i "$out/perf.data" --no-children --sort comm,dso,symbol --stdio 2>/dev/null \
        | grep -v '^$' | head -400 | swift demangle --simplified >"$out/perf-report.txt" || true
fi
bench_stop_daemon

for i in $(seq 1 "$runs"); do
    bench_start_daemon "${limits[@]}"
    sleep 1
    record "idle-$i" lb --idle-connections "$idle" --daemon-pid "$bench_daemon" --runs 1 --no-copy
    bench_stop_daemon
done

python3 scripts/lib/bench-summary.py "$results" "$history"
echo "bench-suite: results in $out" >&2

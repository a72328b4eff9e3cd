#!/usr/bin/env bash
# Publish throughput with the writer keeping 1 and then 2 batches in flight
# (`writer.inFlightBatches`), alternating in one invocation on one private cluster, with the raw
# COPY baseline of each run (set-up and tear-down as scripts/bench.sh, scripts/lib/bench-env.sh):
#
#   scripts/bench-writer.sh [--runs 3] [--messages 50000] [--publishers 16] [--values "1 2"]
#
# Each run restarts the daemon with the next value and runs `liaisonctl bench --runs 1 --json`;
# the medians per value, and their ratio to the first value and to COPY, are printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/bench-env.sh

runs=3
messages=50000
publishers=16
values="1 2"
while [ $# -gt 0 ]; do
    case "$1" in
    --runs) runs=$2; shift 2 ;;
    --messages) messages=$2; shift 2 ;;
    --publishers) publishers=$2; shift 2 ;;
    --values) values=$2; shift 2 ;;
    *) echo "bench-writer: unknown argument $1" >&2; exit 64 ;;
    esac
done

out=$(mktemp /tmp/liaison-bench-writer.XXXXXX.jsonl)
bench_setup
for run in $(seq 1 "$runs"); do
    for value in $values; do
        bench_start_daemon LIAISON_WRITER_IN_FLIGHT_BATCHES="$value"
        echo "bench-writer: run $run, writer.inFlightBatches=$value" >&2
        json=$(LIAISON_TOKEN=$token "$bin/liaisonctl" bench --server "$listen" --account benchpub --json \
            --size 256 --window 64 --publishers "$publishers" --messages "$messages" --runs 1)
        printf '{"in_flight": %s, "load": "%s", "result": %s}\n' "$value" "$(cut -d' ' -f1-3 /proc/loadavg)" \
            "$json" >>"$out"
        bench_stop_daemon
    done
done
python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
by = {}
for row in rows:
    result = row["result"]["results"][0]
    by.setdefault(row["in_flight"], []).append(
        (result["messages_per_second"], row["result"].get("copy_rows_per_second"), result["p99_ms"]))
first = None
for value, samples in by.items():
    rate = statistics.median(s[0] for s in samples)
    copy = statistics.median(s[1] for s in samples if s[1])
    p99 = statistics.median(s[2] for s in samples)
    first = first or rate
    print(f"writer.inFlightBatches={value}: {rate:,.0f} msgs/s (runs {[round(s[0]) for s in samples]}), "
          f"ack p99 {p99:.1f} ms, {rate / first:.2f}x the first value; COPY {copy:,.0f} rows/s, "
          f"{rate / copy:.3f}x COPY")
PY
echo "bench-writer: results in $out" >&2

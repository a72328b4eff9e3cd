#!/usr/bin/env bash
# The Redis baseline of docs/BENCHMARKS.md: XADD throughput of a private redis-server with
# appendonly yes and appendfsync always (every write fsynced before the reply), with the same
# publisher count, payload size, message count and window as `liaisonctl bench`:
#
#   scripts/bench-redis.sh [--publishers 1,16] [--messages 50000] [--size 256] [--window 64] [--runs 3]
#
# Each publisher count runs redis-benchmark with -c <publishers> connections and -P <window>
# pipelined commands per connection (the window of `bench`), `XADD bench * f <size bytes>`. It
# prints one JSON object per line: {"publishers", "runs": [...], "messages_per_second" (median),
# "p50_ms", "p99_ms"}. Installs redis-server from Debian when missing. The server runs on
# LIAISON_BENCH_REDIS_PORT (default 56379) in a scratch folder, and is stopped and removed
# whatever happens.
set -euo pipefail

publishers=1,16
messages=50000
size=256
window=64
runs=3
while [ $# -gt 0 ]; do
    case "$1" in
    --publishers) publishers=$2; shift 2 ;;
    --messages) messages=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --window | --pipeline) window=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    *) echo "bench-redis: unknown argument $1" >&2; exit 64 ;;
    esac
done

if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
    echo "bench-redis: installing redis-server from Debian" >&2
    # A fresh machine's package lists may be empty or stale: update them once if the install fails.
    DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server >&2 \
        || { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server >&2; }
fi

port=${LIAISON_BENCH_REDIS_PORT:-56379}
redisdir=$(mktemp -d /tmp/liaison-bench-redis.XXXXXX)
redis_pid=""
redis_cleanup() {
    if [ -n "$redis_pid" ]; then
        kill "$redis_pid" 2>/dev/null || true
        wait "$redis_pid" 2>/dev/null || true
    fi
    rm -rf "$redisdir"
}
trap redis_cleanup EXIT

redis-server --port "$port" --bind 127.0.0.1 --dir "$redisdir" --appendonly yes --appendfsync always \
    --save '' --daemonize no --logfile "$redisdir/redis.log" &
redis_pid=$!
for _ in $(seq 1 100); do
    if redis-cli -p "$port" ping >/dev/null 2>&1; then break; fi
    sleep 0.1
done
redis-cli -p "$port" config get appendfsync | tr '\n' ' ' >&2
echo >&2

payload=$(head -c "$size" /dev/zero | tr '\0' 'x')
IFS=, read -ra counts <<<"$publishers"
for count in "${counts[@]}"; do
    results=()
    for run in $(seq 1 "$runs"); do
        redis-cli -p "$port" del bench >/dev/null
        # --csv: "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
        line=$(redis-benchmark -p "$port" -c "$count" -P "$window" -n "$messages" --csv \
            XADD bench '*' f "$payload" | tail -1)
        echo "bench-redis: $count publisher(s), run $run/$runs: rps,avg,min,p50,p95,p99,max ms: ${line#*\",}" >&2
        results+=("$line")
    done
    python3 - "$count" "${results[@]}" <<'PY'
import csv, json, statistics, sys
count = int(sys.argv[1])
runs = []
for line in sys.argv[2:]:
    row = next(csv.reader([line]))
    runs.append({"messages_per_second": float(row[1]), "p50_ms": float(row[4]), "p99_ms": float(row[6])})
print(json.dumps({
    "baseline": "redis XADD appendfsync always", "publishers": count,
    "messages_per_second": statistics.median(r["messages_per_second"] for r in runs),
    "p50_ms": statistics.median(r["p50_ms"] for r in runs),
    "p99_ms": statistics.median(r["p99_ms"] for r in runs),
    "runs": runs,
}))
PY
done

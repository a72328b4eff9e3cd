#!/usr/bin/env bash
# Publish throughput with the audit trail on (log sealer and receipts, the defaults) against off
# (audit.enabled=false, receipts.enabled=false), side by side in one invocation on one database:
#
#   scripts/bench-audit.sh [--rounds R] [--subscribers S] [liaisonctl bench arguments ...]
#
# Each round starts the daemon once per setting, in alternating order (on/off, then off/on, so
# neither always runs on the warmer cache), with S subscribers on `bench.>` (default 4: half plain
# subscriptions, half durable consumers with ack=auto; what receipts record), runs
# `liaisonctl bench --runs 1 --json` with the given arguments, and stops the daemon. It prints,
# per publisher count, the median msgs/s of each setting over the rounds and their ratio
# (docs/BENCHMARKS.md). Set-up and tear-down as scripts/bench.sh (scripts/lib/bench-env.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/bench-env.sh

rounds=3
subscribers=4
bench_args=()
while [ $# -gt 0 ]; do
    case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --subscribers) subscribers=$2; shift 2 ;;
    *) bench_args+=("$1"); shift ;;
    esac
done

bench_setup
results=$benchdir/results.jsonl
subs=()
start_subscribers() {
    subs=()
    for i in $(seq 1 "$subscribers"); do
        local durable=()
        if [ $((i % 2)) = 0 ]; then durable=(--durable "bench-$i" --reset); fi
        LIAISON_TOKEN=$token "$bin/liaisonctl" sub --server "$listen" --account benchpub \
            "${durable[@]}" --from new --sid "s$i" 'bench.>' >/dev/null 2>>"$benchdir/subs.log" &
        subs+=($!)
    done
    sleep 1
}
stop_subscribers() {
    for pid in "${subs[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${subs[@]}"; do wait "$pid" 2>/dev/null || true; done
}
run_setting() {
    local setting=$1
    shift
    bench_start_daemon "$@"
    start_subscribers
    LIAISON_TOKEN=$token "$bin/liaisonctl" bench --server "$listen" --account benchpub --runs 1 --json \
        "${bench_args[@]}" | python3 -c 'import json,sys; d=json.load(sys.stdin); d["setting"]=sys.argv[1]; print(json.dumps(d))' \
        "$setting" >>"$results"
    stop_subscribers
    bench_stop_daemon
    echo "bench-audit: $setting done" >&2
}
on=(LIAISON_AUDIT_ENABLED=true LIAISON_RECEIPTS_ENABLED=true)
off=(LIAISON_AUDIT_ENABLED=false LIAISON_RECEIPTS_ENABLED=false)
for round in $(seq 1 "$rounds"); do
    if [ $((round % 2)) = 1 ]; then
        run_setting on "${on[@]}"
        run_setting off "${off[@]}"
    else
        run_setting off "${off[@]}"
        run_setting on "${on[@]}"
    fi
done

python3 - "$results" "$rounds" "$subscribers" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
rates = {}
for row in rows:
    for result in row["results"]:
        rates.setdefault((result["publishers"], row["setting"]), []).append(result["messages_per_second"])
copy = statistics.median(r["copy_rows_per_second"] for r in rows)
print(f"bench-audit: {sys.argv[2]} rounds, {sys.argv[3]} subscribers, COPY baseline median {copy:.0f} rows/s")
print(f"{'PUBLISHERS':>10} {'ON MSGS/S':>10} {'OFF MSGS/S':>11} {'ON/OFF':>7}   each round on | off")
for publishers in sorted({p for p, _ in rates}):
    on, off = rates.get((publishers, "on"), []), rates.get((publishers, "off"), [])
    mon, moff = statistics.median(on), statistics.median(off)
    detail = " ".join(f"{a:.0f}|{b:.0f}" for a, b in zip(on, off))
    print(f"{publishers:>10} {mon:>10.0f} {moff:>11.0f} {mon / moff:>7.3f}   {detail}")
PY

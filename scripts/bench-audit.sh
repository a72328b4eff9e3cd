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
# (docs/BENCHMARKS.md). Before an "on" run it waits until the sealer has sealed what earlier
# "off" runs stored, so each setting pays only for its own messages. Set-up and tear-down as scripts/bench.sh (scripts/lib/bench-env.sh).
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
# An "on" daemon would otherwise start by sealing the rows the previous "off" round left
# unsealed, and be charged for them: wait until the sealer has caught up with the log first.
sealer_behind() {
    psql "$db" -Atc 'SELECT count(*) FROM messages WHERE seq > (SELECT coalesce(max(seq), 0) FROM audit_leaves)'
}
wait_for_sealer() {
    for _ in $(seq 1 1200); do
        if [ "$(sealer_behind)" -le 0 ]; then return 0; fi
        sleep 0.25
    done
    echo "bench-audit: the sealer did not catch up in 5 minutes" >&2
    exit 1
}
run_setting() {
    local setting=$1
    shift
    bench_start_daemon "$@"
    if [ "$setting" = on ]; then wait_for_sealer; fi
    start_subscribers
    local report
    report=$(LIAISON_TOKEN=$token "$bin/liaisonctl" bench --server "$listen" --account benchpub --runs 1 --json \
        "${bench_args[@]}")
    # How many stored rows the sealer had still to seal when the publishers finished: a sealer
    # that keeps up leaves a few pages at most, one that falls behind would hide its cost.
    local behind=0
    if [ "$setting" = on ]; then behind=$(sealer_behind); fi
    python3 -c 'import json,sys; d=json.loads(sys.argv[3]); d["setting"]=sys.argv[1]; d["sealer_behind"]=int(sys.argv[2]); print(json.dumps(d))' \
        "$setting" "$behind" "$report" >>"$results"
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
behind = [r["sealer_behind"] for r in rows if r["setting"] == "on"]
print(f"bench-audit: {sys.argv[2]} rounds, {sys.argv[3]} subscribers, COPY baseline median {copy:.0f} rows/s")
print(f"{'PUBLISHERS':>10} {'ON MSGS/S':>10} {'OFF MSGS/S':>11} {'ON/OFF':>7}   each round on | off")
for publishers in sorted({p for p, _ in rates}):
    on, off = rates.get((publishers, "on"), []), rates.get((publishers, "off"), [])
    mon, moff = statistics.median(on), statistics.median(off)
    detail = " ".join(f"{a:.0f}|{b:.0f}" for a, b in zip(on, off))
    print(f"{publishers:>10} {mon:>10.0f} {moff:>11.0f} {mon / moff:>7.3f}   {detail}")
print(f"rows not yet sealed when an 'on' run's publishers finished: {behind}")
PY

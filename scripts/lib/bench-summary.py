#!/usr/bin/env python3
"""Summary of a scripts/bench-suite.sh run: one markdown row per figure, with the project's target.

Usage: bench-summary.py SUITE.jsonl HISTORY

Reads the {"case", "load", "result"} lines the suite appended and prints the median figures
(each already a median over the runs, computed by liaisonctl bench or bench-redis.sh), the ratio
to the baseline measured in the same invocation, and whether the target is met.
"""
import json
import statistics
import sys

cases = {}
for line in open(sys.argv[1]):
    d = json.loads(line)
    cases[d["case"]] = d
history = sys.argv[2]


def result(case, publishers):
    if case not in cases:
        return None
    return next((r for r in cases[case]["result"]["results"] if r["publishers"] == publishers), None)


def redis(publishers):
    if "redis" not in cases:
        return None
    return next((r for r in cases["redis"]["result"] if r["publishers"] == publishers), None)


rows = []


def row(what, figure, baseline, ratio, target, met):
    verdict = "-" if met is None else "met" if met else "**not met**"
    rows.append(f"| {what} | {figure} | {baseline} | {ratio} | {target} | {verdict} |")


for p in (1, 16):
    r, x = result("throughput", p), redis(p)
    copy = cases.get("throughput", {}).get("result", {}).get("copy_rows_per_second", 0)
    if r and x:
        row(f"{p} publisher(s) vs Redis XADD (appendfsync always)", f"{r['messages_per_second']:.0f} msgs/s",
            f"{x['messages_per_second']:.0f} msgs/s", f"{r['messages_per_second'] / x['messages_per_second']:.3f}",
            "≥ 1.0" if p == 16 else "-", r["messages_per_second"] >= x["messages_per_second"] if p == 16 else None)
    if r and copy:
        row(f"{p} publisher(s) vs COPY", f"{r['messages_per_second']:.0f} msgs/s", f"{copy:.0f} rows/s",
            f"{r['daemon_to_copy']:.3f}", "≥ 0.9" if p == 16 else "-", r["daemon_to_copy"] >= 0.9 if p == 16 else None)
r = result("latency20", 16)
if r:
    rate = cases["latency20"]["result"].get("rate_per_publisher", 0) * 16
    row("p99 ack at 20% of peak (16 publishers)", f"{r['ack_ms']['p99']:.2f} ms (p50 {r['ack_ms']['p50']:.2f}, "
        f"p99.9 {r['ack_ms']['p99_9']:.2f}, max {r['ack_ms']['max']:.2f})", f"target {rate:.0f} msgs/s, got "
        f"{r['messages_per_second']:.0f}", "-", "≤ 5 ms", r["ack_ms"]["p99"] <= 5)
r = result("fanout", 1)
if r:
    row(f"fan-out, 1 publisher, {cases['fanout']['result']['subscribers']} subscribers",
        f"{r['deliveries_per_second']:.0f} deliveries/s (e2e p99 {r['delivery_ms']['p99']:.1f} ms)",
        f"publish {r['messages_per_second']:.0f} msgs/s", "-", "≥ 500 000/s", r["deliveries_per_second"] >= 500_000)
r = result("latency20-deliver", 16)
if r:
    row("p99 publish→deliver at 20% of peak, 100 subscribers", f"{r['delivery_ms']['p99']:.2f} ms (p50 {r['delivery_ms']['p50']:.2f}, "
        f"max {r['delivery_ms']['max']:.2f})", f"{r['deliveries_per_second']:.0f} deliveries/s", "-", "≤ 10 ms",
        r["delivery_ms"]["p99"] <= 10)
r = result("replay", 16)
if r:
    row("replay vs live (16 publishers)", f"{r['replay_per_second']:.0f} msgs/s", f"{r['messages_per_second']:.0f} msgs/s live",
        f"{r['replay_to_live']:.2f}", "≥ 5×", r["replay_to_live"] >= 5)
g0, gh = result("growth-0", 16), result(f"growth-{history}", 16)
if g0 and gh:
    ratio = gh["messages_per_second"] / g0["messages_per_second"]
    row(f"16 publishers with {history} messages of history vs empty", f"{gh['messages_per_second']:.0f} msgs/s",
        f"{g0['messages_per_second']:.0f} msgs/s", f"{ratio:.3f}", "≥ 0.90 (at 10M)", ratio >= 0.9)
for key in ("seek-0", f"seek-{history}"):
    seek = cases.get(key, {}).get("result")
    if seek:
        ms = seek["seek_ms"]
        row(f"from=<seq> seek, {seek['head_seq']} stored ({seek['seeks']} seeks)",
            f"p99 {ms['p99']:.2f} ms (p50 {ms['p50']:.2f}, max {ms['max']:.2f})", "-", "-", "< 10 ms", ms["max"] < 10)
off, on = result("dedupe-off", 16), result("dedupe-on", 16)
if off and on:
    ratio = on["messages_per_second"] / off["messages_per_second"]
    row("16 publishers, id= on vs off", f"{on['messages_per_second']:.0f} msgs/s", f"{off['messages_per_second']:.0f} msgs/s",
        f"{ratio:.3f}", "≥ 0.85", ratio >= 0.85)
idle = [c["result"]["bytes_per_connection"] for k, c in cases.items() if k.startswith("idle-")]
if idle:
    n = next(c["result"]["idle_connections"] for k, c in cases.items() if k.startswith("idle-"))
    per = statistics.median(idle)
    row(f"liaisond RSS per idle connection ({n})", f"{per / 1024:.2f} KiB", "-", "-", "≤ 4 KiB", per <= 4096)

print("| figure | median | baseline (same invocation) | ratio | target | |")
print("|---|---|---|---|---|---|")
print("\n".join(rows))
print()
print("load average (1/5/15 min) at each case: " + "; ".join(f"{k} {c['load']}" for k, c in cases.items()))

#!/usr/bin/env python3
"""The audit of a day of traffic: for every flash alert, who received it, who acknowledged it,
and which entitled accounts have not, answered twice -- once from `liaisonctl` alone, once from
SQL alone (psql as a login holding the `liaison_auditor` role) -- and checked to agree.

Usage:
    python3 deploy/audit_day.py --liaisonctl PATH --database-url URL --auditor-url URL \
        --since 2026-12-02T00:00:00Z [--until TIME] [--topic PATTERN] [--psql PATH] [--quiet]

`--database-url` is what liaisonctl uses (any login that can read the audit views: an admin's or
an auditor's); `--auditor-url` is the login psql uses (it should hold only liaison_auditor, so
the SQL side proves an auditor can answer everything by themselves). Prints, per flash alert,
`seq topic publisher: received [...] acknowledged [...] not acknowledged [...] never delivered
[...]`, then `PASS` or the first disagreement. Exit status: 0 PASS, 1 FAIL (the two sides
disagree, or a tool failed), 2 usage error. Python 3 stdlib only; docs/AUDIT.md, "Receipts".
"""

import argparse
import json
import subprocess
import sys

def run(command: list) -> str:
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:3])} … exited {result.returncode}: {result.stderr.strip()}")
    return result.stdout


def from_liaisonctl(args) -> dict:
    """seq -> (topic, publisher, receipts), from `liaisonctl messages list` and `receipts`."""
    base = [args.liaisonctl]
    listing = base + ["messages", "list", "--database-url", args.database_url, "--since", args.since,
                      "--topic", args.topic, "--format", "jsonl", "--limit", "1000000"]
    if args.until:
        listing += ["--until", args.until]
    alerts = {}
    for line in run(listing).splitlines():
        message = json.loads(line)
        if message.get("headers", {}).get("prio") != "flash":
            continue
        seq = message["seq"]
        receipts = {}
        for row in run(base + ["receipts", str(seq), "--json", "--database-url", args.database_url]).splitlines():
            r = json.loads(row)
            receipts[r["account"]] = (r["status"], r["entitled"])
        alerts[seq] = (message["topic"], message["account"], receipts)
    # The desk officer's list must name exactly the entitled accounts that have not acknowledged.
    pending = base + ["receipts", "--pending", "--prio", "flash", "--since", args.since, "--topic", args.topic,
                      "--json", "--limit", "1000000", "--database-url", args.database_url]
    if args.until:
        pending += ["--until", args.until]
    listed = {}
    for line in run(pending).splitlines():
        r = json.loads(line)
        listed.setdefault(r["seq"], set()).add(r["account"])
    for seq, (_, _, receipts) in alerts.items():
        want = {a for a, (status, entitled) in receipts.items() if entitled and status != "acknowledged"}
        if listed.get(seq, set()) != want:
            raise AssertionError(f"seq {seq}: receipts --pending lists {sorted(listed.get(seq, set()))}, "
                                 f"receipts {seq} says {sorted(want)}")
    return alerts


def from_sql(args) -> dict:
    """seq -> (topic, publisher, receipts), from the audit views alone."""
    until = "AND published_at < :'until'::timestamptz" if args.until else ""
    query = f"""
        SELECT m.seq, m.topic, m.publisher, coalesce(r.account, ''), coalesce(r.status, ''), coalesce(r.entitled, false)
        FROM audit_messages m LEFT JOIN audit_receipts r ON r.seq = m.seq
        WHERE m.prio = 'flash' AND m.published_at >= :'since'::timestamptz {until.replace('published_at', 'm.published_at')}
          AND m.topic ~ :'regex'
        ORDER BY m.seq, r.account
    """
    command = [args.psql, "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1",
               "-v", f"since={args.since}", "-v", f"regex={pattern_regex(args.topic)}", "-d", args.auditor_url]
    if args.until:
        command += ["-v", f"until={args.until}"]
    output = subprocess.run(command, input=query, capture_output=True, text=True, timeout=300)
    if output.returncode != 0:
        raise RuntimeError(f"psql exited {output.returncode}: {output.stderr.strip()}")
    alerts = {}
    for line in output.stdout.splitlines():
        seq, topic, publisher, account, status, entitled = line.split("\t")
        entry = alerts.setdefault(int(seq), (topic, publisher, {}))
        if account:
            entry[2][account] = (status, entitled == "t")
    return alerts


def pattern_regex(pattern: str) -> str:
    """The regex of a topic pattern, as liaison_pattern_regex builds it."""
    parts = {"*": "[^.]+", ">": ".+"}
    return "^" + "\\.".join(parts.get(t, t) for t in pattern.split(".")) + "$"


def summary(seq: int, alert: tuple) -> str:
    topic, publisher, receipts = alert
    def who(test):
        return ",".join(sorted(a for a, (s, e) in receipts.items() if test(s, e))) or "-"
    return (f"{seq} {topic} from {publisher}: received [{who(lambda s, e: s != 'pending')}] "
            f"acknowledged [{who(lambda s, e: s == 'acknowledged')}] "
            f"not acknowledged [{who(lambda s, e: e and s != 'acknowledged')}] "
            f"never delivered [{who(lambda s, e: s == 'pending')}]")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--liaisonctl", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--auditor-url", required=True)
    parser.add_argument("--since", required=True)
    parser.add_argument("--until")
    parser.add_argument("--topic", default=">")
    parser.add_argument("--psql", default="psql")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    try:
        cli = from_liaisonctl(args)
        sql = from_sql(args)
    except (RuntimeError, AssertionError, subprocess.TimeoutExpired) as error:
        print(f"FAIL: {error}")
        return 1
    if not args.quiet:
        for seq in sorted(cli):
            print(summary(seq, cli[seq]))
    if cli != sql:
        for seq in sorted(set(cli) | set(sql)):
            if cli.get(seq) != sql.get(seq):
                print(f"FAIL: seq {seq}: liaisonctl says {cli.get(seq)}, SQL says {sql.get(seq)}")
                return 1
    print(f"PASS: {len(cli)} flash alerts; liaisonctl and SQL agree on who received, acknowledged and has not")
    return 0


if __name__ == "__main__":
    sys.exit(main())

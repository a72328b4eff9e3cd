#!/usr/bin/env python3
"""Flaky-link soak: field offices that go offline for minutes at a time still get every update.

Usage:
    python3 deploy/linksoak.py --liaisond .build/release/liaisond --liaisonctl .build/release/liaisonctl \
        --database-url postgresql://liaison@127.0.0.1:55432/linksoak \
        [--duration 3600] [--rate 20] [--online 30:180] [--offline 60:300] [--seed S] [--report FILE]

Two field offices in Kenya follow headquarters (`hq.>`) with `liaisonctl sub --durable`, each
through its own fault proxy (deploy/faultproxy.py): `unhcr-ke-kakuma` in ack=auto (cumulative
confirms), `ohchr-ke-nairobi` with `--ack` (ack=explicit). Two headquarters publishers post at
`--rate` messages per second in all: mostly routine, some urgent, a few `prio=flash`, and some
`class=confidential` that an office's `internal` clearance does not entitle it to. Each office's
link goes through online periods (`--online`, seconds; with short faults inside: a reset, a
stall of 5-20 s, a throttle to a few KiB/s) and offline periods (`--offline`, seconds: existing
connections reset, new ones refused). The followers are never restarted: they must reconnect by
themselves. After `--duration` the links stay up until the offices caught up (at most 180 s).

Checked per office (a violation fails the run): every acknowledged publish it is entitled to is
printed; nothing it is not entitled to is; no seq is printed twice; in-order (non-flash-ahead)
seqs only increase; every flash missed during an outage is printed before more than one page
(256) of that outage's routine backlog (the figure reported is how many were); the durable position never passes what was printed; the
follower exits 0 on SIGINT. Reported per outage: its length, the wait until the follower resumed
(its backoff), the time to the first missed flash, and the time until the whole backlog was
printed. Exit status: 0 PASS, 1 a violation, 2 the soak could not run. docs/SOAK.md has a run.
"""

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from soak import (  # noqa: E402
    Closed, Daemon, add_daemon_arguments, check_daemon_arguments, connect_auth, prepare_network, pub_frame,
    run_liaisonctl)

PUBLISHERS = ["ohchr", "unhcr"]          # entities: publish under hq.<name>.>
OFFICES = [("unhcr-ke-kakuma", False), ("ohchr-ke-nairobi", True)]   # (account, explicit acks)
PATTERN = "hq.>"
PAGE = 256


@dataclass
class Published:
    seq: int
    at: float           # monotonic time the OK PUB came back
    topic: str
    prio: str
    klass: str


class Proxy:
    """One deploy/faultproxy.py process and its control connection."""

    def __init__(self, target_port: int, log_path: str):
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "faultproxy.py")
        self.log = open(log_path, "a")
        self.proc = subprocess.Popen(
            [sys.executable, script, "--listen", "127.0.0.1:0", "--target", "127.0.0.1:%d" % target_port,
             "--control", "127.0.0.1:0"], stdout=subprocess.PIPE, stderr=self.log, text=True)
        words = self.proc.stdout.readline().split()
        if len(words) != 4 or words[0] != "LISTEN":
            raise RuntimeError("faultproxy did not start: %r" % words)
        self.port = int(words[1].rsplit(":", 1)[1])
        host, _, port = words[3].rpartition(":")
        self.control = socket.create_connection((host, int(port)), timeout=10)
        self.reader = self.control.makefile("r")

    def command(self, text: str) -> str:
        self.control.sendall(text.encode() + b"\n")
        reply = self.reader.readline().strip()
        if not reply.startswith("OK"):
            raise RuntimeError("faultproxy %s: %s" % (text, reply))
        return reply

    def close(self):
        try:
            self.command("quit")
        except (OSError, RuntimeError):
            pass
        self.proc.wait(10)
        self.log.close()


@dataclass
class Outage:
    began: float
    ended: float = 0.0
    resumed: Optional[float] = None      # the follower's `resumed` after the link came back
    first_flash: Optional[float] = None
    caught_up: Optional[float] = None
    missed: int = 0
    missed_flash: int = 0
    routine_before_flash: int = 0


@dataclass
class Office:
    account: str
    explicit: bool
    proxy: Proxy
    proc: Optional[subprocess.Popen] = None
    printed: List[Tuple[float, dict]] = field(default_factory=list)
    resumes: List[float] = field(default_factory=list)
    stderr: List[str] = field(default_factory=list)
    outages: List[Outage] = field(default_factory=list)
    faults: Dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def durable(self) -> str:
        return "linksoak-" + self.account


class LinkSoak:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.violations: List[str] = []
        self.published: Dict[int, Published] = {}
        self.publish_errors = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def violation(self, text: str):
        print("VIOLATION: " + text, flush=True)
        self.violations.append(text)

    def ctl(self, *arguments: str) -> str:
        return run_liaisonctl(self.args.liaisonctl, self.args.database_url, *arguments)

    # ------------------------------------------------------------------ roles

    def publisher(self, port: int, account: str, token: str, rate: float):
        """Posts at `rate` per second, one PUB at a time (what an HQ desk does), until stopped."""
        rng = random.Random("%d-%s" % (self.args.seed, account))
        conn = connect_auth(port, account, token)
        index = 0
        next_at = time.monotonic()
        while not self.stop.is_set():
            next_at += rng.expovariate(rate)
            time.sleep(max(0.0, next_at - time.monotonic()))
            roll = rng.random()
            prio = "flash" if roll < 0.02 else "urgent" if roll < 0.10 else "routine"
            klass = "confidential" if rng.random() < 0.05 else rng.choice(["public", "internal"])
            topic = "hq.%s.%s" % (account, rng.choice(["guidance", "sitrep", "early-warning", "staffing"]))
            payload = ("%s #%d %s " % (account, index, prio)).encode() + b"x" * rng.choice([40, 200, 1000, 4000])
            msg_id = "%s-%d-%d" % (account, self.args.seed, index)
            frame = pub_frame(topic, payload, msg_id).replace(
                b"\n", (" prio=%s class=%s\n" % (prio, klass)).encode(), 1)
            index += 1
            try:
                conn.send(frame)
                reply = conn.line(30)
            except (Closed, TimeoutError, OSError) as error:
                self.publish_errors += 1
                print("publisher %s: %s; reconnecting" % (account, error), flush=True)
                time.sleep(1)
                conn = connect_auth(port, account, token)
                continue
            if reply.startswith("OK PUB "):
                seq = int(reply.split()[2])
                with self.lock:
                    self.published[seq] = Published(seq, time.monotonic(), topic, prio, klass)
            else:
                self.publish_errors += 1
        conn.close()

    def follow(self, office: Office, token: str):
        env = {k: v for k, v in os.environ.items() if not k.startswith("LIAISON_")}
        env.update({"LIAISON_SERVER": "127.0.0.1:%d" % office.proxy.port, "LIAISON_ACCOUNT": office.account,
                    "LIAISON_TOKEN": token})
        command = [self.args.liaisonctl, "sub", PATTERN, "--durable", office.durable, "--format", "jsonl"]
        if office.explicit:
            command.append("--ack")
        office.proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

        def out():
            for line in office.proc.stdout:
                message = json.loads(line)
                with office.lock:
                    office.printed.append((time.monotonic(), message))

        def err():
            for line in office.proc.stderr:
                with office.lock:
                    office.stderr.append(line.rstrip())
                    if line.startswith("resumed"):
                        office.resumes.append(time.monotonic())

        threading.Thread(target=out, daemon=True).start()
        threading.Thread(target=err, daemon=True).start()

    def flap(self, office: Office, until: float):
        """Online periods with short faults inside, then offline periods, until `until`."""
        rng = random.Random("%d-%s-link" % (self.args.seed, office.account))
        (on_low, on_high), (off_low, off_high) = self.args.online, self.args.offline
        while time.monotonic() < until and not self.stop.is_set():
            online_end = min(until, time.monotonic() + rng.uniform(on_low, on_high))
            while time.monotonic() < online_end - 25:
                time.sleep(rng.uniform(5, 20))
                fault = rng.choice(["reset", "stall", "throttle", "none"])
                office.faults[fault] = office.faults.get(fault, 0) + 1
                if fault == "reset":
                    office.proxy.command("reset")
                elif fault == "stall":
                    office.proxy.command("stall")
                    time.sleep(rng.uniform(5, 20))
                    office.proxy.command("unstall")
                elif fault == "throttle":
                    office.proxy.command("throttle %d" % rng.choice([2048, 4096, 16384]))
                    time.sleep(rng.uniform(5, 20))
                    office.proxy.command("throttle 0")
            time.sleep(max(0.0, online_end - time.monotonic()))
            if time.monotonic() >= until:
                break
            outage = Outage(began=time.monotonic())
            office.proxy.command("refuse")
            office.proxy.command("reset")
            time.sleep(rng.uniform(off_low, off_high))
            office.proxy.command("accept")
            outage.ended = time.monotonic()
            office.outages.append(outage)
            print("%s: offline %.0f s, link back" % (office.account, outage.ended - outage.began), flush=True)

    # ------------------------------------------------------------------ checks and figures

    def expected(self) -> Dict[int, Published]:
        """Everything an office is entitled to: all of hq.> up to its `internal` clearance."""
        with self.lock:
            return {s: p for s, p in self.published.items() if p.klass != "confidential"}

    def caught_up(self, office: Office) -> bool:
        with office.lock:
            printed = {m["seq"] for _, m in office.printed}
        return set(self.expected()) <= printed

    def check(self, office: Office, exit_code: Optional[int]):
        expected = self.expected()
        with office.lock:
            printed = list(office.printed)
        name = office.account
        seen: Dict[int, float] = {}
        last_in_order = 0
        for at, message in printed:
            seq = message["seq"]
            if seq in seen:
                self.violation("%s: seq %d printed twice" % (name, seq))
            seen[seq] = at
            if message["headers"].get("class") == "confidential":
                self.violation("%s: seq %d is confidential, beyond its clearance" % (name, seq))
            if message["headers"].get("liaison.ahead") != "1":
                if seq <= last_in_order:
                    self.violation("%s: seq %d printed after %d (order)" % (name, seq, last_in_order))
                last_in_order = max(last_in_order, seq)
        missing = sorted(set(expected) - set(seen))
        if missing:
            self.violation("%s: %d entitled messages never printed, first %s" % (name, len(missing), missing[:10]))
        if exit_code != 0:
            self.violation("%s: liaisonctl sub exited %s on SIGINT, not 0" % (name, exit_code))
        for line in self.ctl("consumer", "list", "--account", name, "--json").splitlines():
            consumer = json.loads(line)
            if consumer["name"] == office.durable and consumer["ack_floor"] > max(seen, default=0):
                self.violation("%s: durable ack floor %d is past the last printed seq %d"
                               % (name, consumer["ack_floor"], max(seen, default=0)))
        # Per outage: what it missed, when the follower was back, when the flash and the rest came.
        for outage in office.outages:
            backlog = sorted(s for s, p in expected.items() if p.at < outage.ended and seen.get(s, 1e18) >= outage.ended)
            outage.missed = len(backlog)
            outage.resumed = next((t for t in office.resumes if t >= outage.ended), None)
            if backlog:
                outage.caught_up = max(seen.get(s, 1e18) for s in backlog)
            flash = [s for s in backlog if expected[s].prio == "flash"]
            outage.missed_flash = len(flash)
            if flash:
                outage.first_flash = min(seen.get(s, 1e18) for s in flash)
                routine = [seen[s] for s in backlog if expected[s].prio != "flash" and s in seen]
                for seq in flash:
                    before = sum(1 for t in routine if outage.ended <= t < seen.get(seq, 1e18))
                    outage.routine_before_flash = max(outage.routine_before_flash, before)
                if outage.routine_before_flash > PAGE:
                    self.violation("%s: a flash missed in the outage at %.0f s came after %d routine messages"
                                   % (name, outage.began - self.started, outage.routine_before_flash))

    def report(self, office: Office) -> dict:
        def rel(t, base):
            return None if t is None or t >= 1e17 else round(t - base, 2)

        rows = []
        for o in office.outages:
            rows.append({"offline_at_s": round(o.began - self.started), "offline_s": round(o.ended - o.began, 1),
                         "missed": o.missed, "missed_flash": o.missed_flash,
                         "resumed_after_s": rel(o.resumed, o.ended), "first_flash_after_s": rel(o.first_flash, o.ended),
                         "caught_up_after_s": rel(o.caught_up, o.ended),
                         "routine_before_flash": o.routine_before_flash})
        with office.lock:
            printed = len(office.printed)
            link_lost = sum(1 for line in office.stderr if line.startswith("link lost"))
        return {"account": office.account, "ack": "explicit" if office.explicit else "auto", "printed": printed,
                "link_lost_notices": link_lost, "resumed": len(office.resumes), "faults": office.faults,
                "outages": rows}

    # ------------------------------------------------------------------ the run

    def main(self) -> int:
        a = self.args
        try:
            tokens = prepare_network(a.liaisonctl, a.database_url, PUBLISHERS + [account for account, _ in OFFICES])
            for publisher in PUBLISHERS:   # so they may post the confidential ones the offices must not get
                self.ctl("account", "clearance", publisher, "confidential")
        except RuntimeError as error:
            print("SETUP FAILED: %s" % error, file=sys.stderr)
            return 2
        workdir = tempfile.mkdtemp(prefix="liaison-linksoak-")
        daemon = Daemon(a.liaisond, a.database_url, {"LIAISON_LOG_LEVEL": "info"}, workdir)
        offices: List[Office] = []
        try:
            daemon.start()
            for account, explicit in OFFICES:
                offices.append(Office(account, explicit, Proxy(daemon.port, os.path.join(workdir, "proxy.log"))))
            # Each durable is created before anything is published: from then on it owes every update.
            for office in offices:
                conn = connect_auth(daemon.port, office.account, tokens[office.account])
                reply = conn.command("SUB d %s durable=%s reset=true" % (PATTERN, office.durable))
                conn.command("QUIT")
                conn.close()
                if reply != "OK SUB d":
                    raise RuntimeError("SUB for %s got %r" % (office.account, reply))
        except (RuntimeError, OSError, Closed, TimeoutError) as error:
            daemon.stop()
            print("SETUP FAILED: %s" % error, file=sys.stderr)
            return 2
        print("linksoak seed %d: liaisond on port %d, work dir %s" % (a.seed, daemon.port, workdir), flush=True)
        self.started = time.monotonic()
        until = self.started + a.duration
        threads = [threading.Thread(target=self.publisher, args=(daemon.port, p, tokens[p], a.rate / len(PUBLISHERS)),
                                    daemon=True) for p in PUBLISHERS]
        for office in offices:
            self.follow(office, tokens[office.account])
            threads.append(threading.Thread(target=self.flap, args=(office, until), daemon=True))
        for thread in threads:
            thread.start()
        try:
            while time.monotonic() < until:
                time.sleep(min(60, max(0.1, until - time.monotonic())))
                for office in offices:
                    if office.proc.poll() is not None:
                        self.violation("%s: liaisonctl sub exited by itself (%s)" % (office.account, office.proc.returncode))
                print("%.0f s: %d published; printed %s" % (
                    time.monotonic() - self.started, len(self.published),
                    ", ".join("%s %d" % (o.account, len(o.printed)) for o in offices)), flush=True)
            self.stop.set()
            for office in offices:
                for command in ("accept", "unstall", "throttle 0"):
                    office.proxy.command(command)
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline and not all(self.caught_up(o) for o in offices):
                time.sleep(0.5)
            codes = {}
            for office in offices:
                office.proc.send_signal(2)
                try:
                    codes[office.account] = office.proc.wait(20)
                except subprocess.TimeoutExpired:
                    office.proc.kill()
                    codes[office.account] = None
            time.sleep(0.5)
            for office in offices:
                self.check(office, codes[office.account])
        finally:
            for office in offices:
                if office.proc and office.proc.poll() is None:
                    office.proc.kill()
                office.proxy.close()
            daemon.stop()
        expected = self.expected()
        summary = {"seed": a.seed, "duration_s": a.duration, "rate": a.rate, "published": len(self.published),
                   "entitled": len(expected),
                   "flash": sum(1 for p in expected.values() if p.prio == "flash"),
                   "publish_errors": self.publish_errors, "violations": len(self.violations),
                   "offices": [self.report(o) for o in offices]}
        print(json.dumps(summary, indent=1))
        for office in summary["offices"]:
            caught = [o["caught_up_after_s"] for o in office["outages"] if o["caught_up_after_s"] is not None]
            resumed = [o["resumed_after_s"] for o in office["outages"] if o["resumed_after_s"] is not None]
            if caught:
                print("%s: %d outages; resumed after median %.1f s (max %.1f); caught up after median %.1f s (max %.1f)"
                      % (office["account"], len(office["outages"]), statistics.median(resumed or [0]),
                         max(resumed or [0]), statistics.median(caught), max(caught)))
        if a.report:
            with open(a.report, "w") as f:
                json.dump(summary, f, indent=1)
        print("PASS" if not self.violations else "FAIL")
        return 0 if not self.violations else 1


def seconds_range(text: str) -> Tuple[float, float]:
    low, _, high = text.partition(":")
    return float(low), float(high or low)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_daemon_arguments(parser)
    parser.add_argument("--duration", type=float, default=3600, help="seconds of flapping (default 3600)")
    parser.add_argument("--rate", type=float, default=20, help="publishes per second, all publishers (default 20)")
    parser.add_argument("--online", type=seconds_range, default=(30, 180), help="online period, MIN:MAX seconds")
    parser.add_argument("--offline", type=seconds_range, default=(60, 300), help="offline period, MIN:MAX seconds")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--report", help="also write the summary as JSON to this file")
    args = parser.parse_args()
    check_daemon_arguments(parser, args)
    if args.seed is None:
        args.seed = random.randrange(1 << 31)
    return LinkSoak(args).main()


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Soak test: repeated kill -9 of a real liaisond under load, with every promise checked.

Usage:
    python3 deploy/soak.py --liaisond .build/release/liaisond --liaisonctl .build/release/liaisonctl \
        --database-url postgresql://liaison@127.0.0.1:55432/soak \
        [--cycles 20] [--duration 600] [--seed S] [--publishers 4] [--window 256]
        [--kill-after-ms 300:3000] [--high-water-mark 262144] [--rss-bound-mib 128]
    python3 deploy/soak.py --self-test

Each cycle runs, against one liaisond started by this script: pipelining publishers (PUBs with
and without id=), two publishers racing with the same ids, a durable consumer (durable=,
ack=explicit) that acknowledges what it gets, and a slow subscriber to `>` (a 4 KiB receive
buffer, short sleeps, and a multi-second pause in some cycles). At a random moment the daemon is
killed with SIGKILL and restarted on the same database and port; publishes that got no reply are
re-sent with their id=. After the last cycle the consumers catch up and the log is read back with
`liaisonctl messages list`. docs/SOAK.md lists the checks. Exit status: 0 PASS, 1 a violation,
2 the soak could not run (setup, daemon start). Python 3 stdlib only.
"""

import argparse
import base64
import json
import os
import random
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set, Tuple

# Accounts from config/network.json, used within their default access rules: a field office
# publishes under field.mm.>, an entity may subscribe to field.>, only an admin may subscribe to >.
PUBLISHER, CONSUMER, READER = "unhcr-mm-sittwe", "ohchr", "netadmin"
TOPICS = ["field.mm.sittwe.early-warning", "field.mm.sittwe.report", "field.mm.yangon.early-warning",
          "field.mm.yangon.report", "field.mm.sittwe.health"]
DURABLE_PATTERN = "field.mm.*.early-warning"


def durable_match(topic: str) -> bool:
    parts = topic.split(".")
    return len(parts) == 4 and parts[:2] == ["field", "mm"] and parts[3] == "early-warning"
LISTENING_RE = re.compile(r"address=\S*:(\d+)\b.*listening$")


class Closed(Exception):
    """The server closed or reset the connection."""


# ---------------------------------------------------------------------------- protocol client

def parse_frame(buf: bytearray):
    """Takes one whole frame off the front of buf: ('line', str), ('msg', dict), or None if partial."""
    lf = buf.find(b"\n")
    if lf < 0:
        return None
    line = bytes(buf[:lf]).rstrip(b"\r").decode("utf-8", "replace")
    if not line.startswith("MSG "):
        del buf[:lf + 1]
        return ("line", line)
    parts = line.split(" ")
    if len(parts) < 7:
        raise ValueError("malformed MSG line: " + line)
    size = int(parts[6])
    if len(buf) < lf + 1 + size + 1:
        return None
    payload = bytes(buf[lf + 1:lf + 1 + size])
    if buf[lf + 1 + size] != 10:
        raise ValueError("MSG %s: payload not followed by LF" % parts[2])
    del buf[:lf + 2 + size]
    headers = dict(p.split("=", 1) for p in parts[7:] if "=" in p)
    return ("msg", {"sid": parts[1], "seq": int(parts[2]), "topic": parts[3], "account": parts[4],
                    "headers": headers, "payload": payload})


def pub_frame(topic: str, payload: bytes, msg_id: Optional[str]) -> bytes:
    line = "PUB %s %d" % (topic, len(payload)) + (" id=" + msg_id if msg_id else "")
    return line.encode() + b"\n" + payload + b"\n"


class Conn:
    """One blocking TCP connection speaking protocol v1 (one reader thread; sends may come from another)."""

    def __init__(self, port: int, rcvbuf: Optional[int] = None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(10)
        self.sock.connect(("127.0.0.1", port))
        self.buf = bytearray()
        self.greeting = self.line(10)

    def send(self, data: bytes):
        try:
            self.sock.sendall(data)
        except OSError as error:
            raise Closed(str(error))

    def frame(self, timeout: float):
        """The next frame; raises Closed on EOF/reset and TimeoutError when none comes in time."""
        deadline = time.monotonic() + timeout
        while True:
            frame = parse_frame(self.buf)
            if frame is not None:
                return frame
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no frame within %.1f s" % timeout)
            ready, _, _ = select.select([self.sock], [], [], left)
            if not ready:
                continue
            try:
                data = self.sock.recv(262144)
            except (ConnectionResetError, BrokenPipeError) as error:
                raise Closed(str(error))
            except socket.timeout:
                continue
            if not data:
                raise Closed("EOF")
            self.buf += data

    def line(self, timeout: float) -> str:
        while True:
            kind, value = self.frame(timeout)
            if kind == "line":
                return value

    def command(self, text: str, timeout: float = 10) -> str:
        self.send(text.encode() + b"\n")
        return self.line(timeout)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def connect_auth(port: int, account: str, token: str, rcvbuf: Optional[int] = None) -> Conn:
    conn = Conn(port, rcvbuf)
    reply = conn.command("AUTH %s %s" % (account, token))
    if reply != "OK AUTH " + account:
        raise RuntimeError("AUTH %s got %r" % (account, reply))
    return conn


# ---------------------------------------------------------------------------- workload roles

@dataclass
class Outgoing:
    topic: str
    payload: bytes
    msg_id: Optional[str]


class Plan:
    """A publisher's messages, made on first use (a cycle plans far more than it gets to send)."""

    def __init__(self, make, order: List[int]):
        self.make, self.order, self.cache = make, order, {}

    def __len__(self):
        return len(self.order)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        m = self.cache.get(i)
        if m is None:
            m = self.cache[i] = self.make(self.order[i])
        return m


@dataclass
class PublishRun:
    messages: "Plan | List[Outgoing]"
    replies: List[str] = field(default_factory=list)
    sent: int = 0
    error: Optional[str] = None


def publish(port: int, token: str, messages, window: int, stop: threading.Event) -> PublishRun:
    """Pipelines messages (at most `window` unanswered) until all are answered or the connection dies."""
    run = PublishRun(messages)
    try:
        conn = connect_auth(port, PUBLISHER, token)
    except (OSError, Closed, RuntimeError, TimeoutError) as error:
        run.error = "connect: %s" % error
        return run
    slots = threading.Semaphore(window)
    done = threading.Event()

    def writer():
        i = 0
        while i < len(messages) and not done.is_set() and not stop.is_set():
            if not slots.acquire(timeout=0.2):
                continue
            batch = [i]
            while len(batch) < 64 and i + len(batch) < len(messages) and slots.acquire(blocking=False):
                batch.append(i + len(batch))
            run.sent = i + len(batch)
            data = b"".join(pub_frame(m.topic, m.payload, m.msg_id) for m in (messages[j] for j in batch))
            i += len(batch)
            try:
                conn.send(data)
            except Closed:
                return

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        while len(run.replies) < len(messages):
            kind, value = conn.frame(30)
            if kind == "line" and value != "PING":
                run.replies.append(value)
                slots.release()
    except Closed:
        pass
    except TimeoutError as error:
        run.error = "silent server: %s" % error
    done.set()
    thread.join()
    conn.close()
    return run


@dataclass
class Consumed:
    """One session of a subscriber: what it asked for and what came."""
    from_seq: Optional[int]
    deliveries: List[dict] = field(default_factory=list)
    confirmed: Set[int] = field(default_factory=set)
    unexpected: List[str] = field(default_factory=list)
    sub_reply: str = ""
    known_before: Set[int] = field(default_factory=set)  # durable: matching acked seqs when it began


def consume(port: int, account: str, token: str, sub_line: str, sid: str, ack: bool, stop: threading.Event,
            rcvbuf: Optional[int] = None, slow: bool = False, pause: float = 0.0,
            until: Optional[Set[int]] = None, from_seq: Optional[int] = None, limit: float = 3600) -> Consumed:
    """Subscribes and reads until the connection dies, `stop` is set, or every seq in `until` arrived."""
    session = Consumed(from_seq)
    try:
        conn = connect_auth(port, account, token, rcvbuf)
        session.sub_reply = conn.command(sub_line)
    except (OSError, Closed, RuntimeError, TimeoutError) as error:
        session.sub_reply = "connect: %s" % error
        return session
    if session.sub_reply != "OK SUB " + sid:
        conn.close()
        return session
    outstanding = set(until) if until is not None else None
    deadline = time.monotonic() + limit
    paused_until = time.monotonic() + pause if pause else 0.0
    try:
        while not stop.is_set() and time.monotonic() < deadline:
            if outstanding is not None and not outstanding:
                break
            if time.monotonic() < paused_until:
                time.sleep(0.05)
                continue
            try:
                kind, value = conn.frame(0.5)
            except TimeoutError:
                continue
            if kind == "msg":
                session.deliveries.append(value)
                if outstanding is not None:
                    outstanding.discard(value["seq"])
                if ack:
                    conn.send(b"ACK %s %d\n" % (sid.encode(), value["seq"]))
                if slow and len(session.deliveries) % 200 == 0:
                    time.sleep(0.05)
            elif value.startswith("OK ACK "):
                session.confirmed.add(int(value[7:]))
            elif value == "PING":
                conn.send(b"PONG\n")
            else:
                session.unexpected.append(value)
    except Closed:
        pass
    conn.close()
    return session


# ---------------------------------------------------------------------------- the daemon

class Daemon:
    def __init__(self, binary: str, database_url: str, settings: Dict[str, str], workdir: str):
        self.binary, self.database_url, self.settings, self.workdir = binary, database_url, settings, workdir
        self.port = 0
        self.proc: Optional[subprocess.Popen] = None
        self.log_path = os.path.join(workdir, "liaisond.log")

    def start(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("LIAISON_")}
        env.update(self.settings)
        log = open(self.log_path, "a")
        offset = log.tell()
        self.proc = subprocess.Popen(
            [self.binary, "--listen", "127.0.0.1:%d" % self.port, "--database-url", self.database_url,
             "--node-name", "soak"], env=env, cwd=self.workdir, stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.proc.poll() is None:
            with open(self.log_path) as f:
                f.seek(offset)
                for line in f:
                    m = LISTENING_RE.search(line.strip())
                    if m:
                        self.port = int(m.group(1))
                        return
            time.sleep(0.1)
        raise RuntimeError("liaisond did not listen within 30 s; see %s" % self.log_path)

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill9()

    def rss(self) -> int:
        try:
            with open("/proc/%d/status" % self.proc.pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) * 1024
        except (OSError, ValueError):
            pass
        return 0


def run_liaisonctl(binary: str, database_url: str, *arguments: str) -> str:
    """Runs one `liaisonctl` admin command on the database; its stdout, or RuntimeError with its stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIAISON_")}
    env["LIAISON_DATABASE_URL"] = database_url
    out = subprocess.run([binary, *arguments], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError("liaisonctl %s: exit %d: %s" % (" ".join(arguments), out.returncode, out.stderr))
    return out.stdout


def prepare_network(binary: str, database_url: str, accounts: List[str]) -> Dict[str, str]:
    """Migrates the database, imports config/network.json, and issues a token for each account."""
    run_liaisonctl(binary, database_url, "migrate")
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    run_liaisonctl(binary, database_url, "account", "import", os.path.join(root, "config", "network.json"))
    return {account: run_liaisonctl(binary, database_url, "token", "issue", account).strip() for account in accounts}


# ---------------------------------------------------------------------------- the soak

class Soak:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.run_id = "%x" % self.rng.getrandbits(32)
        self.violations: List[str] = []
        self.head_before = 0                           # the log's last seq before the soak
        self.last_delay = 0.0                          # the last cycle's kill delay, ms
        self.acked: Dict[int, Outgoing] = {}          # seq -> what the non-DUP reply acknowledged
        self.id_seqs: Dict[str, Set[int]] = {}        # id -> every seq a reply gave for it
        self.durable_sessions: List[Consumed] = []
        self.slow_sessions: List[Consumed] = []
        self.stats = {"cycles": 0, "published": 0, "unanswered": 0, "resent": 0, "dups": 0,
                      "durable_delivered": 0, "slow_delivered": 0, "peak_rss_mib": 0}

    def violation(self, text: str):
        print("VIOLATION: " + text, flush=True)
        if len(self.violations) < 1000:
            self.violations.append(text)

    def ctl(self, *arguments: str) -> str:
        return run_liaisonctl(self.args.liaisonctl, self.args.database_url, *arguments)

    def message(self, cycle: int, who: str, index: int) -> Outgoing:
        rng = random.Random("%s-%d-%s-%d" % (self.run_id, cycle, who, index))
        size = rng.choice([0, 1, 17, 200, 1024, 2048, 4000]) if rng.random() < 0.9 else rng.randint(8192, 65536)
        payload = ("%s %d %s #%d " % (self.run_id, cycle, who, index)).encode() + bytes([0, 13, 10, 255])
        payload += rng.randbytes(min(size, 64)) + b"x" * max(0, size - 64)
        msg_id = "soak-%s-c%d-%s-%d" % (self.run_id, cycle, who, index) if index % 2 == 0 else None
        return Outgoing(rng.choice(TOPICS), payload, msg_id)

    def record(self, run: PublishRun, label: str):
        for i, reply in enumerate(run.replies):
            m = run.messages[i]
            parts = reply.split(" ")
            if len(parts) < 3 or parts[:2] != ["OK", "PUB"]:
                self.violation("%s PUB #%d got %r" % (label, i, reply))
                continue
            seq = int(parts[2])
            if m.msg_id:
                self.id_seqs.setdefault(m.msg_id, set()).add(seq)
            if len(parts) == 4 and parts[3] == "DUP":
                self.stats["dups"] += 1
            else:
                self.acked[seq] = m
                self.stats["published"] += 1

    def run_cycle(self, daemon: Daemon, cycle: int, tokens: Dict[str, str], last_slow: Optional[int]) -> Optional[int]:
        a = self.args
        stop = threading.Event()
        per = a.max_per_cycle
        jobs: Dict[str, Plan] = {}
        for p in range(a.publishers):
            jobs["p%d" % p] = Plan(lambda i, who="p%d" % p: self.message(cycle, who, i), list(range(per)))
        # Two connections publish the same ids (every race message has one), in different orders.
        race = list(range(0, per // 2, 2))
        jobs["race-a"] = Plan(lambda i: self.message(cycle, "race", i), race)
        jobs["race-b"] = Plan(lambda i: self.message(cycle, "race", i), self.rng.sample(race, len(race)))
        known = self.durable_expected()
        results: Dict[str, PublishRun] = {}
        consumers: Dict[str, Consumed] = {}

        def pub(name):
            results[name] = publish(daemon.port, tokens[PUBLISHER], jobs[name], a.window, stop)

        def durable():
            consumers["durable"] = consume(daemon.port, CONSUMER, tokens[CONSUMER],
                                           "SUB d %s durable=soak-%s ack=explicit" % (DURABLE_PATTERN, self.run_id),
                                           "d", True, stop)

        pause = self.rng.uniform(2, 5) if self.rng.random() < 0.5 else 0.0
        start = "new" if last_slow is None else str(last_slow + 1)

        def slow():
            consumers["slow"] = consume(daemon.port, READER, tokens[READER], "SUB slow > from=%s" % start, "slow",
                                        False, stop, rcvbuf=4096, slow=True, pause=pause,
                                        from_seq=None if last_slow is None else last_slow + 1)

        threads = [threading.Thread(target=durable), threading.Thread(target=slow)]
        threads += [threading.Thread(target=pub, args=(name,)) for name in jobs]
        baseline = daemon.rss()
        for t in threads:
            t.start()
        low, high = a.kill_after_ms
        self.last_delay = self.rng.uniform(low, high)
        kill_at = time.monotonic() + self.last_delay / 1000
        peak = baseline
        while time.monotonic() < kill_at:
            peak = max(peak, daemon.rss())
            time.sleep(0.05)
        daemon.kill9()
        stop.set()
        for t in threads:
            t.join(60)
        rise = (peak - baseline) >> 20
        self.stats["peak_rss_mib"] = max(self.stats["peak_rss_mib"], peak >> 20)
        if rise > a.rss_bound_mib:
            self.violation("cycle %d: RSS rose by %d MiB (bound %d MiB)" % (cycle, rise, a.rss_bound_mib))

        for name, run in results.items():
            if run.error:
                self.violation("cycle %d %s: %s" % (cycle, name, run.error))
            self.record(run, "cycle %d %s" % (cycle, name))
            self.stats["unanswered"] += run.sent - len(run.replies)
        a_run, b_run = results.get("race-a"), results.get("race-b")
        if a_run and b_run:
            self.check_race(cycle, a_run, b_run)
        for name, sessions in (("durable", self.durable_sessions), ("slow", self.slow_sessions)):
            session = consumers.get(name)
            if session is None or session.sub_reply != ("OK SUB d" if name == "durable" else "OK SUB slow"):
                self.violation("cycle %d %s: SUB got %r" % (cycle, name, session and session.sub_reply))
                continue
            session.known_before = known
            sessions.append(session)
            if session.unexpected:
                self.violation("cycle %d %s: unexpected lines %r" % (cycle, name, session.unexpected[:5]))

        daemon.start()
        self.resend(daemon, cycle, tokens, results)
        slow_session = consumers.get("slow")
        if slow_session and slow_session.deliveries:
            return slow_session.deliveries[-1]["seq"]
        return last_slow

    def durable_expected(self) -> Set[int]:
        return {s for s, m in self.acked.items() if durable_match(m.topic)}

    def check_race(self, cycle: int, a: PublishRun, b: PublishRun):
        first: Dict[str, str] = {}
        for run in (a, b):
            for i, reply in enumerate(run.replies):
                msg_id = run.messages[i].msg_id
                if msg_id in first:
                    one, other = first[msg_id].split(" "), reply.split(" ")
                    if one[2] != other[2] or (len(one) == 4) == (len(other) == 4):
                        self.violation("cycle %d racing %s: %r vs %r" % (cycle, msg_id, first[msg_id], reply))
                else:
                    first[msg_id] = reply

    def resend(self, daemon: Daemon, cycle: int, tokens: Dict[str, str], results: Dict[str, PublishRun]):
        again = [m for run in results.values() for m in run.messages[len(run.replies):run.sent] if m.msg_id]
        if not again:
            return
        self.stats["resent"] += len(again)
        run = publish(daemon.port, tokens[PUBLISHER], again, self.args.window, threading.Event())
        if run.error or len(run.replies) != len(again):
            self.violation("cycle %d re-send: %s, %d of %d answered" % (cycle, run.error, len(run.replies), len(again)))
        self.record(run, "cycle %d re-send" % cycle)

    def finish(self, daemon: Daemon, tokens: Dict[str, str], last_slow: Optional[int]):
        """The consumers catch up once more; then the log is read back and every check runs."""
        rows = self.read_log()
        expected_durable = self.durable_expected()
        got = {d["seq"] for s in self.durable_sessions for d in s.deliveries}
        stop = threading.Event()
        final = consume(daemon.port, CONSUMER, tokens[CONSUMER],
                        "SUB d %s durable=soak-%s ack=explicit" % (DURABLE_PATTERN, self.run_id), "d", True, stop,
                        until=expected_durable - got, limit=120)
        final.known_before = expected_durable
        if final.sub_reply != "OK SUB d":
            self.violation("final durable SUB got %r" % final.sub_reply)
        else:
            self.durable_sessions.append(final)
        head = max(rows) if rows else 0
        if last_slow is not None and head > last_slow:
            wanted = {s for s in rows if s > last_slow}
            final_slow = consume(daemon.port, READER, tokens[READER], "SUB slow > from=%d" % (last_slow + 1),
                                 "slow", False, stop, rcvbuf=4096, until=wanted, from_seq=last_slow + 1, limit=120)
            self.slow_sessions.append(final_slow)
        self.check(rows)

    def read_log(self) -> Dict[int, dict]:
        lo = self.head_before + 1
        rows: Dict[int, dict] = {}
        while True:
            out = self.ctl("messages", "list", "--from-seq", str(lo), "--limit", "2000", "--format", "jsonl")
            page = [json.loads(line) for line in out.splitlines() if line.strip()]
            for row in page:
                rows[row["seq"]] = row
            if len(page) < 2000:
                return rows
            lo = page[-1]["seq"] + 1

    def check(self, rows: Dict[int, dict]):
        # 1. Every acknowledged publish is stored, exactly as sent.
        for seq, m in sorted(self.acked.items()):
            row = rows.get(seq)
            if row is None:
                self.violation("acknowledged seq %d is not stored" % seq)
                continue
            payload = base64.b64decode(row["payload_base64"])
            if (row["topic"], row["account"], payload, row["headers"].get("id")) != (m.topic, PUBLISHER, m.payload,
                                                                                      m.msg_id):
                self.violation("seq %d stored differently from what was acknowledged" % seq)
        # 2. Every id: one stored row, and every reply for it named that row.
        stored_ids: Dict[str, List[int]] = {}
        prefix = "soak-%s-" % self.run_id
        for seq, row in rows.items():
            msg_id = row["headers"].get("id", "")
            if msg_id.startswith(prefix):
                stored_ids.setdefault(msg_id, []).append(seq)
        for msg_id, seqs in stored_ids.items():
            if len(seqs) != 1:
                self.violation("id %s stored %d times: %s" % (msg_id, len(seqs), sorted(seqs)))
        for msg_id, seqs in self.id_seqs.items():
            if len(seqs) != 1 or stored_ids.get(msg_id) != list(seqs):
                self.violation("id %s answered with %s, stored at %s" % (msg_id, sorted(seqs), stored_ids.get(msg_id)))
        # 3. The durable consumer lost nothing, and resumed no later than its first unacknowledged seq.
        expected = self.durable_expected()
        got: Set[int] = set()
        confirmed: Set[int] = set()
        for i, session in enumerate(self.durable_sessions):
            seqs = [d["seq"] for d in session.deliveries]
            self.stats["durable_delivered"] += len(seqs)
            if i > 0 and seqs:
                unacked = sorted(session.known_before - confirmed)
                if unacked and seqs[0] > unacked[0]:
                    self.violation("durable session %d resumed at %d, past unacknowledged %d"
                                   % (i, seqs[0], unacked[0]))
            bad = [d["seq"] for d in session.deliveries if not durable_match(d["topic"])]
            if bad:
                self.violation("durable session %d got seqs outside %s: %s" % (i, DURABLE_PATTERN, bad[:5]))
            got.update(seqs)
            confirmed.update(session.confirmed)
        missing = sorted(expected - got)
        if missing:
            self.violation("durable consumer never got %d acknowledged seqs: %s" % (len(missing), missing[:20]))
        # 4. The slow subscriber: per session, exactly the stored seqs of its range, in order.
        for i, session in enumerate(self.slow_sessions):
            seqs = [d["seq"] for d in session.deliveries]
            self.stats["slow_delivered"] += len(seqs)
            if not seqs:
                continue
            lo = session.from_seq if session.from_seq is not None else seqs[0]
            want = sorted(s for s in rows if lo <= s <= seqs[-1])
            if seqs != want:
                diff = sorted(set(want) ^ set(seqs))[:10]
                self.violation("slow session %d (from %s): %d delivered vs %d stored in range; first differences %s"
                               % (i, lo, len(seqs), len(want), diff))

    def main(self) -> int:
        a = self.args
        try:
            tokens = prepare_network(a.liaisonctl, a.database_url, [PUBLISHER, CONSUMER, READER])
            newest = self.ctl("messages", "list", "--newest-first", "--limit", "1", "--format", "jsonl").strip()
            self.head_before = json.loads(newest)["seq"] if newest else 0
        except RuntimeError as error:
            print("SETUP FAILED: %s" % error, file=sys.stderr)
            return 2
        workdir = tempfile.mkdtemp(prefix="liaison-soak-")
        settings = {"LIAISON_LIMITS_HIGH_WATER_MARK": str(a.high_water_mark), "LIAISON_LOG_LEVEL": "info"}
        daemon = Daemon(a.liaisond, a.database_url, settings, workdir)
        try:
            daemon.start()
        except RuntimeError as error:
            print("DAEMON FAILED: %s" % error, file=sys.stderr)
            return 2
        print("soak %s: liaisond on port %d, log %s" % (self.run_id, daemon.port, daemon.log_path), flush=True)
        # Create the durable consumer before anything is published: from then on it owes every match.
        try:
            conn = connect_auth(daemon.port, CONSUMER, tokens[CONSUMER])
            reply = conn.command("SUB d %s durable=soak-%s ack=explicit" % (DURABLE_PATTERN, self.run_id))
            conn.command("QUIT")
            conn.close()
        except (OSError, Closed, RuntimeError, TimeoutError) as error:
            reply = str(error)
        if reply != "OK SUB d":
            daemon.stop()
            print("DURABLE CONSUMERS UNAVAILABLE: SUB got %r" % reply, file=sys.stderr)
            return 2
        started = time.monotonic()
        last_slow = None
        try:
            for cycle in range(a.cycles):
                if time.monotonic() - started > a.duration:
                    break
                began = time.monotonic()
                last_slow = self.run_cycle(daemon, cycle, tokens, last_slow)
                self.stats["cycles"] += 1
                print("cycle %d (%.1f s, kill -9 after %.0f ms): %d acknowledged so far, %d violations"
                      % (cycle, time.monotonic() - began, self.last_delay, len(self.acked), len(self.violations)),
                      flush=True)
            self.finish(daemon, tokens, last_slow)
        finally:
            daemon.stop()
        print("\n== soak %s summary (%.0f s)" % (self.run_id, time.monotonic() - started))
        for key, value in self.stats.items():
            print("  %-18s %s" % (key, value))
        print("  %-18s %d" % ("violations", len(self.violations)))
        print("PASS" if not self.violations else "FAIL")
        return 0 if not self.violations else 1


def self_test() -> int:
    buf = bytearray(b"OK PUB 7\nMSG s 9 a.b ohchr 2026-01-01T00:00:00.000000Z 3 id=x\na\nb\nMSG s 10 a")
    assert parse_frame(buf) == ("line", "OK PUB 7")
    kind, msg = parse_frame(buf)
    assert kind == "msg" and msg["seq"] == 9 and msg["payload"] == b"a\nb" and msg["headers"] == {"id": "x"}
    assert parse_frame(buf) is None and buf == bytearray(b"MSG s 10 a")
    assert pub_frame("a.b", b"\x00\n", "k") == b"PUB a.b 2 id=k\n\x00\n\n"
    print("self-test passed")
    return 0


def add_daemon_arguments(parser: argparse.ArgumentParser):
    """--liaisond, --liaisonctl and --database-url, shared by the soak scripts."""
    parser.add_argument("--liaisond", default=".build/release/liaisond")
    parser.add_argument("--liaisonctl", default=".build/release/liaisonctl")
    parser.add_argument("--database-url", default=os.environ.get("LIAISON_DATABASE_URL"))


def check_daemon_arguments(parser: argparse.ArgumentParser, args):
    """Refuses a missing database URL or binaries that are not executable; makes the paths absolute."""
    if not args.database_url:
        parser.error("--database-url or LIAISON_DATABASE_URL is required")
    args.liaisond, args.liaisonctl = os.path.abspath(args.liaisond), os.path.abspath(args.liaisonctl)
    for binary in (args.liaisond, args.liaisonctl):
        if not os.access(binary, os.X_OK):
            parser.error("%s is not an executable: build it (swift build -c release) or pass its path" % binary)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_daemon_arguments(parser)
    parser.add_argument("--cycles", type=int, default=20, help="kill -9 cycles (default 20)")
    parser.add_argument("--duration", type=float, default=600, help="start no cycle after this many seconds")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--publishers", type=int, default=4)
    parser.add_argument("--window", type=int, default=256, help="unanswered PUBs per publisher")
    parser.add_argument("--max-per-cycle", type=int, default=20000, help="PUBs per publisher per cycle at most")
    parser.add_argument("--kill-after-ms", default="300:3000", help="random kill delay range, MIN:MAX")
    parser.add_argument("--high-water-mark", type=int, default=262144)
    parser.add_argument("--rss-bound-mib", type=int, default=128, help="most the daemon's RSS may rise per cycle")
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    if args.self_test:
        return self_test()
    check_daemon_arguments(parser, args)
    low, _, high = args.kill_after_ms.partition(":")
    args.kill_after_ms = (float(low), float(high or low))
    if args.seed is None:
        args.seed = random.randrange(1 << 31)
    print("seed %d" % args.seed)
    return Soak(args).main()


if __name__ == "__main__":
    sys.exit(main())

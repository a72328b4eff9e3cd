#!/usr/bin/env python3
"""A day of the network's traffic against a running liaisond, over real TCP.

Usage:
    python3 deploy/scenario.py --host 127.0.0.1 --port 7420 --liaisonctl PATH \
        [--database-url URL] [--messages N] [--seed S] [--deadline SECONDS]
    python3 deploy/scenario.py --self-test

The accounts come from config/network.json (imported beforehand with
`liaisonctl account import config/network.json`, which gives them the default access rules of
docs/SECURITY.md). The scenario raises a few clearances with `liaisonctl account clearance`,
connects its subscribers (SUB from=new), then every member publishes its share of the day from
its own connection, in parallel threads, pipelining bursts of PUBs, while a few deliberate
violations (another country's topic, a pattern escaping a country, a class above the
publisher's clearance) must be answered `ERR 403`. Each subscription must then receive exactly
the acknowledged messages its pattern matches and its account's clearance admits, in increasing
seq order, byte for byte. Exit status: 0 PASS, 1 FAIL, 2 usage error.
The topic scheme and what is checked are described in docs/SCENARIO.md. Python 3 stdlib only.
"""

import argparse
import concurrent.futures
import datetime
import json
import math
import os
import queue
import random
import re
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

MAX_SERVER_LINE = 64 * 1024  # MSG lines carry headers (values up to 1024 bytes each)
ACCOUNT_RE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}\Z")
TOKEN_RE = re.compile(r"[!-~]+\Z")  # printable ASCII, no space: one AUTH token
SID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}\Z")
HEADER_KEY_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}\Z")
SIZE_RE = re.compile(r"[0-9]{1,19}\Z")
CLASSES = ["public", "internal", "confidential", "strictly-confidential"]  # least to most sensitive
RFC3339_UTC_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z\Z")

# Who listens, on which connection, with which patterns (sid, pattern). Every pattern is within
# the account's default `sub` rules (docs/SECURITY.md "Defaults"); the self-test checks it.
SUBSCRIBER_PLAN = [
    ("unhcr-mm-sittwe", [("fieldmm", "field.mm.>"), ("guidance", "hq.*.guidance-note.>")]),
    ("undp-ba-sarajevo", [("fieldba", "field.ba.>")]),
    ("osapg", [("warnings", "field.*.*.early-warning")]),
    ("ohchr", [("hq", "hq.>")]),
    ("netadmin", [("all", ">")]),
    ("ohchr-co-bogota", [("fieldco", "field.co.>"),
                         ("bogota-ew", "field.co.bogota.early-warning")]),
    ("dppa", [("ap", "hq.*.action-plan.*"), ("ew", "field.*.*.early-warning"),
              ("announce", "net.announce")]),
    ("iom-iq-erbil", [("iq-reports", "field.iq.*.report"), ("iom-hq", "hq.iom.>")]),
    ("dgc", [("quotable", "hq.*.guidance-note.>")]),
]

# Clearances set with `liaisonctl account clearance` before the day; every other account keeps
# the default (internal; admins strictly-confidential). Cleared offices may mark reports
# confidential; dgc (public communications) may handle only quotable material, so its own posts
# carry class=public and it receives only class=public guidance.
CLEARANCE_PLAN = {
    "ohchr": "confidential", "osapg": "confidential", "unhcr": "confidential",
    "dppa": "confidential", "unhcr-mm-sittwe": "confidential", "ohchr-co-bogota": "confidential",
    "unhcr-ba-sarajevo": "confidential", "ohchr-ke-nairobi": "confidential",
    "unhcr-iq-erbil": "confidential", "dgc": "public",
}

# Deliberate violations, each of which the daemon must answer `ERR 403`:
# (account, "pub" or "sub", topic or pattern, headers of the PUB, why it must be refused).
REFUSED_PLAN = [
    ("unhcr-mm-sittwe", "pub", "field.ba.sarajevo.report", {},
     "an office posting in another country"),
    ("iom-iq-erbil", "sub", "field.*.*.report", {}, "an office reading beyond its country"),
    ("undp", "pub", "hq.undp.action-plan.ap-01", {"class": "strictly-confidential"},
     "a class above the publisher's clearance (internal)"),
    ("undp-ba-sarajevo", "pub", "field.ba.sarajevo.report", {"class": "confidential"},
     "an office not cleared for confidential marking a report so"),
    ("iom", "pub", "hq.ohchr.guidance-note.rec-07", {},
     "an entity posting under another entity's prefix"),
    ("ohchr", "sub", ">", {}, "hq.>, net.> and field.> together do not admit >"),
    ("dgc", "pub", "hq.dgc.guidance-note.rec-01", {},
     "no class header means internal, above dgc's clearance (public)"),
]

class ProtocolViolation(Exception):
    """The byte stream does not follow protocol v1 (framing, line syntax, reply shape)."""


class ScenarioError(Exception):
    """A step of the scenario failed (connect, AUTH, SUB, token issue); the message says which."""


# --------------------------------------------------------------------------- topics


def valid_topic(topic: str) -> bool:
    """True when `topic` is 1-255 bytes of dot-separated [A-Za-z0-9_-]+ tokens."""
    if not 1 <= len(topic.encode()) <= 255:
        return False
    return all(re.fullmatch(r"[A-Za-z0-9_-]+", t) for t in topic.split("."))


def valid_pattern(pattern: str) -> bool:
    """True when `pattern` is a topic whose tokens may be `*`, and whose last token may be `>`."""
    if not 1 <= len(pattern.encode()) <= 255:
        return False
    tokens = pattern.split(".")
    for i, t in enumerate(tokens):
        if t == ">" and i == len(tokens) - 1:
            continue
        if t != "*" and not re.fullmatch(r"[A-Za-z0-9_-]+", t):
            return False
    return True


def topic_matches(pattern: str, topic: str) -> bool:
    """Wildcard match: `*` is exactly one token, a final `>` one or more remaining tokens."""
    pt, tt = pattern.split("."), topic.split(".")
    for i, p in enumerate(pt):
        if p == ">":
            return len(tt) > i
        if i >= len(tt) or (p != "*" and p != tt[i]):
            return False
    return len(pt) == len(tt)


def pattern_within(outer: str, inner: str) -> bool:
    """True when every topic `inner` can select is selected by `outer` (docs/SECURITY.md).

    `a.*.c` is within `a.>`; `a.>` is not within `a.b.*`; `*` is within `>`, `>` not within `a.>`.
    """
    ot, it = outer.split("."), inner.split(".")
    for i, o in enumerate(ot):
        if o == ">":
            return len(it) > i  # one or more tokens left in inner, whatever they are
        if i >= len(it) or it[i] == ">":
            return False
        if o != "*" and o != it[i]:
            return False  # a literal in outer needs the same literal in inner (`*` is wider)
    return len(ot) == len(it)


def class_of(headers: dict) -> str:
    """A message's class: its `class` header, `internal` when absent."""
    return headers.get("class", "internal")


def visible(headers: dict, clearance: str) -> bool:
    """Whether a reader with `clearance` receives a message with these headers."""
    return CLASSES.index(class_of(headers)) <= CLASSES.index(clearance)


def default_rules(account) -> tuple:
    """The default allow rules of an account, ([pub patterns], [sub patterns]), as
    docs/SECURITY.md "Defaults" gives them (no deny rules)."""
    if account.role == "admin":
        return [">"], [">"]
    if account.kind == "entity":
        return [f"hq.{account.name}.>", "net.>"], ["hq.>", "net.>", "field.>"]
    if account.country:
        cc = account.country
        return [f"field.{cc}.>"], [f"field.{cc}.>", "hq.>", "net.>"]
    return [], ["hq.>", "net.>"]


def may_publish(account, clearance: str, topic: str, headers: dict) -> bool:
    """The daemon's PUB check under the default rules: topic allowed, class within clearance."""
    return (any(topic_matches(p, topic) for p in default_rules(account)[0])
            and visible(headers, clearance))


def may_subscribe(account, pattern: str) -> bool:
    """The daemon's SUB check under the default rules: the pattern within one allow pattern."""
    return any(pattern_within(p, pattern) for p in default_rules(account)[1])


def clearances_for(accounts) -> dict:
    """Every account's clearance: CLEARANCE_PLAN, else the default for its role."""
    return {a.name: CLEARANCE_PLAN.get(a.name, "strictly-confidential" if a.role == "admin"
                                       else "internal") for a in accounts}


# --------------------------------------------------------------------------- framing


@dataclass
class Frame:
    """One protocol frame: the control line split on spaces, plus the payload for sized verbs."""

    verb: str
    line: str
    args: list
    payload: Optional[bytes] = None


@dataclass
class Delivery:
    """A parsed server `MSG <sid> <seq> <topic> <account> <time> <size> [k=v...]` frame."""

    sid: str
    seq: int
    topic: str
    account: str
    time: str
    headers: dict
    payload: bytes


class FrameParser:
    """Incremental frame parser: feed() bytes as they arrive, next() returns a Frame or None.

    Lines end in LF (a CR before it is dropped). For the verbs in `sized_verbs` (verb -> index of
    the size token, counting the verb as 0) exactly `size` payload bytes follow the line, then LF
    or CRLF. The same class parses server frames (MSG, size at 6) and, in the self-test's fake
    broker, client frames (PUB, size at 2).
    """

    def __init__(self, sized_verbs=None, max_line=MAX_SERVER_LINE):
        self.sized = {"MSG": 6} if sized_verbs is None else sized_verbs
        self.max_line = max_line
        self.buf = bytearray()
        self.start = 0  # consumed prefix of buf, compacted lazily to keep parsing linear
        self.scanned = 0  # bytes after start already searched for LF
        self.pending = None  # (verb, line, args, size) of a sized frame awaiting its payload

    def feed(self, data: bytes) -> None:
        if self.start > 65536 and self.start * 2 > len(self.buf):
            del self.buf[: self.start]
            self.start = 0
        self.buf += data

    def _consume(self, n: int) -> bytes:
        out = bytes(self.buf[self.start : self.start + n])
        self.start += n
        return out

    def next(self) -> Optional[Frame]:
        if self.pending is None:
            nl = self.buf.find(b"\n", self.start + self.scanned)
            if nl < 0:
                self.scanned = len(self.buf) - self.start
                if self.scanned > self.max_line + 1:
                    raise ProtocolViolation(f"line longer than {self.max_line} bytes without LF")
                return None
            raw = self._consume(nl - self.start + 1)[:-1]
            self.scanned = 0
            if raw.endswith(b"\r"):
                raw = raw[:-1]
            if len(raw) > self.max_line:
                raise ProtocolViolation(f"line of {len(raw)} bytes exceeds {self.max_line}")
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise ProtocolViolation(f"line is not UTF-8: {raw[:80]!r}") from None
            tokens = [t for t in line.split(" ") if t]
            if not tokens:
                raise ProtocolViolation("empty line")
            verb = tokens[0].upper()
            index = self.sized.get(verb)
            if index is None:
                return Frame(verb, line, tokens[1:])
            if len(tokens) <= index or not SIZE_RE.match(tokens[index]):
                raise ProtocolViolation(f"{verb} line without a valid size: {line[:200]!r}")
            self.pending = (verb, line, tokens[1:], int(tokens[index]))
        verb, line, args, size = self.pending
        have = len(self.buf) - self.start
        if have < size + 1:
            return None
        end = self.buf[self.start + size]
        if end == 0x0D:
            if have < size + 2:
                return None
            if self.buf[self.start + size + 1] != 0x0A:
                raise ProtocolViolation(f"payload of {size} bytes followed by CR without LF")
            payload = self._consume(size + 2)[:size]
        elif end == 0x0A:
            payload = self._consume(size + 1)[:size]
        else:
            raise ProtocolViolation(f"payload of {size} bytes not followed by LF ({line[:200]!r})")
        self.pending = None
        return Frame(verb, line, args, payload)


def parse_headers(tokens) -> dict:
    """`k=v` tokens to an ordered dict; no `=`, an empty key or value, or a repeat is invalid."""
    headers = {}
    for token in tokens:
        key, eq, value = token.partition("=")
        if not eq or not HEADER_KEY_RE.match(key) or not value or key in headers:
            raise ProtocolViolation(f"bad header token {token!r}")
        headers[key] = value
    return headers


def parse_delivery(frame: Frame) -> Delivery:
    """Checks and decodes a MSG frame; raises ProtocolViolation on any malformed field."""
    a = frame.args
    if frame.verb != "MSG" or len(a) < 6:
        raise ProtocolViolation(f"not a MSG frame: {frame.line[:200]!r}")
    sid, seq, topic, account, when, size = a[:6]
    if not SID_RE.match(sid) or not SIZE_RE.match(seq) or int(seq) < 1:
        raise ProtocolViolation(f"bad sid or seq in {frame.line[:200]!r}")
    if not valid_topic(topic) or not ACCOUNT_RE.match(account):
        raise ProtocolViolation(f"bad topic or account in {frame.line[:200]!r}")
    if not RFC3339_UTC_RE.match(when):
        raise ProtocolViolation(f"publish time is not RFC 3339 UTC in {frame.line[:200]!r}")
    if int(size) != len(frame.payload):
        raise ProtocolViolation(f"size field {size} differs from payload {len(frame.payload)}")
    return Delivery(sid, int(seq), topic, account, when, parse_headers(a[6:]), frame.payload)


def encode_pub(topic: str, headers: dict, payload: bytes) -> bytes:
    """The bytes of one `PUB <topic> <size> [k=v...]` frame, payload and final LF included."""
    line = " ".join(["PUB", topic, str(len(payload))] + [f"{k}={v}" for k, v in headers.items()])
    return line.encode() + b"\n" + payload + b"\n"


# --------------------------------------------------------------------------- client


class ConnectionClosed(Exception):
    """The server closed the connection (recv returned no bytes)."""


class LiaisonClient:
    """One TCP connection speaking protocol v1: greeting, commands with one reply line each,
    server PING answered with PONG, MSG frames handed to a callback."""

    def __init__(self, host: str, port: int, label: str, timeout: float = 10.0):
        self.label = label
        try:
            self.sock = socket.create_connection((host, port), timeout=timeout)
        except OSError as error:
            raise ScenarioError(f"{label}: cannot connect to {host}:{port}: {error}") from None
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.parser = FrameParser()
        self.send_lock = threading.Lock()
        greeting = self.read_frame()
        if greeting.verb != "LIAISON" or not greeting.args or greeting.args[0] != "1":
            raise ProtocolViolation(f"{label}: unexpected greeting {greeting.line!r}")
        self.greeting = greeting.line
        options = dict(t.partition("=")[::2] for t in greeting.args[1:] if "=" in t)
        self.node = options.get("node", "?")
        self.max_payload = int(options.get("max_payload", "1048576"))

    def send(self, data: bytes) -> None:
        with self.send_lock:
            self.sock.sendall(data)

    def read_frame(self) -> Frame:
        while True:
            frame = self.parser.next()
            if frame is not None:
                return frame
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionClosed(f"{self.label}: server closed the connection")
            self.parser.feed(data)

    def read_reply(self, on_msg: Optional[Callable] = None) -> Frame:
        """The next reply line (OK, ERR or PONG); answers PING and passes MSG to `on_msg`."""
        while True:
            frame = self.read_frame()
            if frame.verb == "PING":
                self.send(b"PONG\n")
            elif frame.verb == "MSG":
                if on_msg is None:
                    raise ProtocolViolation(f"{self.label}: MSG on a connection with no SUB")
                on_msg(parse_delivery(frame))
            elif frame.verb in ("OK", "ERR", "PONG"):
                return frame
            else:
                raise ProtocolViolation(f"{self.label}: unexpected line {frame.line[:200]!r}")

    def command(self, line: str, expect: str, on_msg: Optional[Callable] = None) -> Frame:
        """Sends one command; the reply must start with `expect`, else ScenarioError."""
        self.send(line.encode() + b"\n")
        reply = self.read_reply(on_msg)
        if not reply.line.startswith(expect):
            shown = line if not line.upper().startswith("AUTH") else line.rsplit(" ", 1)[0] + " ***"
            raise ScenarioError(f"{self.label}: {shown!r} answered {reply.line!r}")
        return reply

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


class Report:
    """Thread-safe collector of failures and notes; prints as it goes."""

    def __init__(self, out: Callable[[str], None]):
        self.out = out
        self.lock = threading.Lock()
        self.failures = []

    def fail(self, text: str) -> None:
        with self.lock:
            self.failures.append(text)
            self.out(f"FAIL: {text}")

    def note(self, text: str) -> None:
        with self.lock:
            self.out(text)


class Subscriber:
    """A subscriber connection: AUTH, its SUBs, then a reader thread that records deliveries."""

    def __init__(self, host, port, account, token, subs, report: Report):
        self.account, self.subs, self.report = account, subs, report
        self.client = LiaisonClient(host, port, f"subscriber {account}")
        self.received = {sid: [] for sid, _ in subs}
        self.cond = threading.Condition()
        self.replies = queue.Queue()
        self.closed = False
        self.stop = False
        try:
            self.client.command(f"AUTH {account} {token}", f"OK AUTH {account}")
            for sid, pattern in subs:
                self.client.command(f"SUB {sid} {pattern} from=new", f"OK SUB {sid}", self._record)
        except BaseException:
            self.client.close()
            raise
        self.thread = threading.Thread(target=self._read, name=f"sub-{account}", daemon=True)
        self.client.sock.settimeout(0.5)
        self.thread.start()

    def _record(self, d: Delivery) -> None:
        with self.cond:
            if d.sid not in self.received:
                self.report.fail(f"{self.account}: MSG for unknown sid {d.sid} (seq {d.seq})")
                return
            self.received[d.sid].append(d)
            self.cond.notify_all()

    def _read(self) -> None:
        try:
            while True:
                try:
                    frame = self.client.read_frame()
                except socket.timeout:
                    if self.stop:
                        return
                    continue
                if frame.verb == "MSG":
                    self._record(parse_delivery(frame))
                elif frame.verb == "PING":
                    self.client.send(b"PONG\n")
                else:
                    self.replies.put(frame)
        except ConnectionClosed:
            if not self.stop:
                self.report.fail(f"{self.account}: server closed the subscriber connection")
        except (ProtocolViolation, OSError) as error:
            if not self.stop:
                self.report.fail(f"{self.account}: {error}")
        finally:
            with self.cond:
                self.closed = True
                self.cond.notify_all()

    def request(self, line: str, timeout: float) -> Optional[Frame]:
        """Sends a command from the main thread; the reader thread hands back its reply."""
        self.client.send(line.encode() + b"\n")
        try:
            return self.replies.get(timeout=timeout)
        except queue.Empty:
            return None

    def finish(self) -> None:
        """QUIT, expect OK BYE, and let the reader thread see the close."""
        if not self.closed:
            self.stop = True
            reply = self.request("QUIT", 5.0)
            if reply is None or reply.line != "OK BYE":
                got = "no reply" if reply is None else repr(reply.line)
                self.report.fail(f"{self.account}: QUIT answered {got}, expected 'OK BYE'")
        self.stop = True
        self.thread.join(5.0)
        self.client.close()


# --------------------------------------------------------------------------- accounts


@dataclass(frozen=True)
class Account:
    """One entry of config/network.json."""

    name: str
    kind: str
    role: str
    display_name: str
    parent: Optional[str] = None
    country: Optional[str] = None

    @property
    def city(self) -> Optional[str]:
        """An office's city token, from the `<parent>-<country>-<city>` naming convention."""
        prefix = f"{self.parent}-{self.country}-"
        if self.kind != "office" or not self.name.startswith(prefix):
            return None
        return self.name[len(prefix) :]


def load_network(path: str) -> tuple:
    """Reads and checks the accounts file; returns (network name, [Account]).

    Raises ScenarioError naming the first problem (bad name, unknown parent, bad country...).
    """
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    accounts, names = [], set()
    for entry in doc.get("accounts", []):
        a = Account(entry["name"], entry["kind"], entry["role"], entry["display_name"],
                    entry.get("parent"), entry.get("country"))
        if not ACCOUNT_RE.match(a.name) or a.name in names:
            raise ScenarioError(f"{path}: bad or repeated account name {a.name!r}")
        if a.kind not in ("entity", "office") or a.role not in ("member", "admin"):
            raise ScenarioError(f"{path}: {a.name}: kind/role {a.kind}/{a.role}")
        if a.kind == "office" and (not a.country or not re.fullmatch(r"[a-z]{2}", a.country)
                                   or a.city is None or not re.fullmatch(r"[a-z0-9_-]+", a.city)):
            raise ScenarioError(f"{path}: office {a.name} needs parent, country, <p>-<cc>-<city>")
        if a.kind == "entity" and not re.fullmatch(r"[a-z0-9_-]+", a.name):
            raise ScenarioError(f"{path}: entity {a.name} cannot be a topic token (hq.<entity>)")
        names.add(a.name)
        accounts.append(a)
    for a in accounts:
        if a.parent is not None and a.parent not in names:
            raise ScenarioError(f"{path}: {a.name}: unknown parent {a.parent}")
    return doc.get("network", "?"), accounts


# --------------------------------------------------------------------------- traffic

THEMES = [
    "non-discrimination in common country analyses", "safe disaggregation of data by ethnicity,"
    " language and religion", "minority participation in programme design",
    "staff learning on minority rights", "indicators of identity-based tension",
    "equal access to civil documentation", "mother-tongue education and public services",
    "health services without discrimination", "land, housing and property safeguards",
    "monitoring of and response to hate speech", "inclusion in peace and political processes",
    "minority women and girls", "decent work and livelihoods", "national human rights institutions",
    "follow-up to treaty body recommendations", "diversity in UN recruitment",
    "consultation before relocation", "joint programmes across entities",
    "reporting results to the network",
]
ASKS = [
    "review current programme documents against this theme",
    "name a focal point who follows the theme across programmes",
    "share one practice that worked and one that did not",
    "consult minority organisations before the next planning cycle",
    "check that data collection can be disaggregated without putting people at risk",
    "brief senior management on the risks identified so far",
]
ACTION_POINTS = [
    "Focal points named in every participating entity", "Joint training module for country teams",
    "Map of programmes that address discrimination", "Shared indicators for identity-based tension",
    "Collection of field practice", "Annual report of the network",
    "Briefing kit for resident coordinators", "Yearly meeting of focal points",
    "Coordinated engagement with the minority issues forum",
    "Staff guidance on consulting communities", "Roster of experts on minority rights",
    "Mid-term evaluation of the plan",
]
PROGRESS = [
    ("on track", "Draft circulated to focal points for comment."),
    ("on track", "Work continues with partners at headquarters; no blockers."),
    ("delayed", "Held up by the budget review; a new date was agreed with the secretariat."),
    ("completed", "Done; the material is on the network workspace."),
    ("not started", "Scheduled for next quarter once staffing is confirmed."),
]
SIGNALS = [
    "inflammatory messages circulating on social media",
    "new limits on the movement of a minority community",
    "unusual arrivals of displaced families", "a dispute over land allocation between communities",
    "damage to a place of worship", "refusals to issue civil documents to minority applicants",
    "minority children turned away from a local school", "threats against community leaders",
]
RESPONSES = [
    "joint assessment mission within 48 hours", "engagement with local authorities",
    "alert to the resident coordinator", "protection monitoring visit",
    "message to the network's early warning focal points",
]
REPORT_BY = ["the next network call", "the end of the quarter", "day 30"]
OUTCOMES = ["no new concerns", "follow-up needed on two cases", "services reached most sites"]
ACCESS = ["normal", "normal", "limited", "limited", "suspended"]
ANNOUNCEMENTS = [
    ("Network call moved", "The monthly call moves to Thursday 14:00 UTC; same dial-in."),
    ("Action-plan reporting", "Progress on each action point is due before the end of the month."),
    ("Maintenance window", "The coordination service restarts at 22:00 UTC for about a minute;"
     " clients reconnect and resume by themselves."),
    ("New focal point", "Please welcome the new focal point joining the secretariat this week."),
    ("Classify sensitive reports", "Reports naming individuals or sites must be marked"
     " class=confidential or higher."),
]
ENTITY_NOTICES = [
    ("Call for field practice", "Send one example of consulting minority communities before the"
     " network call."),
    ("Training open", "The joint module on minority rights for country teams opens for"
     " registration."),
    ("Focal point away", "Our focal point is on mission; please copy the deputy until next week."),
]
SECRETARIAT_RESTRICTED = [
    ("Threat assessment", "A threat assessment concerning staff and partners in one duty station"
     " was shared with the focal points cleared to read it."),
    ("Security incident", "A partner's office was searched; names of contacts are withheld"
     " pending an assessment."),
]
CITY_NAMES = {"bogota": "Bogotá", "cucuta": "Cúcuta"}


@dataclass
class Outgoing:
    """One message a publisher will send; `seq` is filled from its `OK PUB <seq>`."""

    index: int
    account: str
    topic: str
    headers: dict
    payload: bytes
    seq: Optional[int] = None
    latency_ms: Optional[float] = None


def encode_payload(body: dict, rng: random.Random) -> bytes:
    """JSON text in one of several layouts; several put raw CR and LF bytes inside the payload."""
    style = rng.random()
    compact = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    if style < 0.45:
        text = compact
    elif style < 0.60:
        text = json.dumps(body, ensure_ascii=False, indent=2)
    elif style < 0.75:
        text = json.dumps(body, ensure_ascii=False, indent=2).replace("\n", "\r\n")
    elif style < 0.82:
        text = json.dumps(body, ensure_ascii=False, indent=1).replace("\n", "\r")
    elif style < 0.88:
        text = compact + "\r"  # a CR right before the frame's LF must stay in the payload
    elif style < 0.94:
        text = compact + "\r\n"
    else:
        text = "\n" + compact + "\n\n"
    return text.encode("utf-8")


def generate_traffic(accounts, count: int, seed: int, run_id: str, max_payload: int,
                     clearances: dict) -> list:
    """The day's messages, the same for the same (seed, count, accounts, max_payload, clearances).

    Every poster gets at least one message when `count` allows; the rest favour field offices.
    Each account posts only where its default rules allow it (an entity under `hq.<name>` and on
    `net.announce`, an office under `field.<country>.<city>`, the secretariat anywhere), and
    never marks a class above its clearance in `clearances`: a sensitive report by an office not
    cleared for `confidential` stays `internal`, and an account cleared only for `public` marks
    everything `class=public`. `id` headers embed `run_id` so that a second run is never
    answered as a duplicate.
    """
    rng = random.Random(seed)
    posters = [a for a in accounts if a.role == "member"]
    posters += [a for a in accounts if a.role == "admin"]
    order = posters[:]
    rng.shuffle(order)
    weights = [2.0 if a.kind == "office" else 1.5 if a.role == "admin" else 1.0 for a in posters]
    chosen = order[:count] + rng.choices(posters, weights=weights, k=max(0, count - len(order)))
    out = []
    for i, a in enumerate(chosen):
        minute = 6 * 60 + (i * 16 * 60) // max(count, 1)  # the day runs 06:00 to 22:00
        clock = f"{minute // 60:02d}:{minute % 60:02d}"
        headers = {}
        if a.role == "admin":
            restricted = rng.random() < 0.2
            subject, text = rng.choice(SECRETARIAT_RESTRICTED if restricted else ANNOUNCEMENTS)
            topic = "net.announce"
            body = {"type": "net.announce", "from": a.name, "subject": subject, "text": text,
                    "time_local": clock}
            if restricted:
                headers["class"] = "strictly-confidential"
            if rng.random() < 0.3:
                headers["prio"] = "urgent"
        elif a.kind == "entity" and rng.random() < 0.1:
            subject, text = rng.choice(ENTITY_NOTICES)
            topic = "net.announce"
            body = {"type": "net.announce", "from": a.name, "subject": subject, "text": text,
                    "time_local": clock}
        elif a.kind == "entity" and rng.random() < 0.55:
            rec = rng.randint(1, 19)
            topic = f"hq.{a.name}.guidance-note.rec-{rec:02d}"
            body = {"type": "hq.guidance", "entity": a.name, "recommendation": rec,
                    "theme": THEMES[rec - 1], "ask": f"Country teams are asked to"
                    f" {rng.choice(ASKS)} and to report back by {rng.choice(REPORT_BY)}.",
                    "time_local": clock}
            r = rng.random()
            if r < 0.3:
                headers["class"] = "public"
            elif r < 0.45:
                headers["class"] = "confidential"  # names partners; kept if the entity is cleared
            if rng.random() < 0.3:
                headers["lang"] = rng.choice(["en", "fr", "es"])
        elif a.kind == "entity":
            ap = rng.randint(1, len(ACTION_POINTS))
            status, note = rng.choice(PROGRESS)
            topic = f"hq.{a.name}.action-plan.ap-{ap:02d}"
            body = {"type": "hq.action-plan", "entity": a.name, "action_point": f"ap-{ap:02d}",
                    "title": ACTION_POINTS[ap - 1], "status": status, "note": note,
                    "percent_complete": 100 if status == "completed" else rng.randrange(0, 95, 5),
                    "time_local": clock}
            r = rng.random()
            if r < 0.2:
                headers["class"] = "internal"
            elif r < 0.4:
                headers["class"] = "confidential"
        elif rng.random() < 0.35:
            topic = f"field.{a.country}.{a.city}.early-warning"
            place = CITY_NAMES.get(a.city, a.city.title())
            n = rng.randint(1, 6)
            body = {"type": "field.early-warning", "office": a.name, "country": a.country,
                    "place": place, "signal": rng.choice(SIGNALS),
                    "observed": f"Monitors heard of it in {n} locations around {place};"
                    f" partners confirmed {rng.randint(0, n)}.",
                    "people_affected_estimate": rng.randrange(20, 3000, 10),
                    "proposed_response": rng.choice(RESPONSES), "time_local": clock}
            headers["prio"] = "flash" if rng.random() < 0.3 else "urgent"
            if rng.random() < 0.4:
                headers["class"] = "confidential"
        else:
            topic = f"field.{a.country}.{a.city}.report"
            place = CITY_NAMES.get(a.city, a.city.title())
            body = {"type": "field.report", "office": a.name, "place": place,
                    "visits": rng.randint(0, 12), "interviews": rng.randint(0, 40),
                    "access": rng.choice(ACCESS),
                    "summary": f"Routine monitoring in and around {place}; "
                    f"{rng.choice(OUTCOMES)}.",
                    "time_local": clock}
            r = rng.random()
            if r < 0.15:
                headers["class"] = "confidential"
            elif r < 0.35:
                headers["class"] = "internal"
            if rng.random() < 0.05:  # a long report with an annex exercises multi-read payloads
                target = min(rng.randint(16_000, 64_000), max_payload // 2)
                annex, size = [], 0
                while size < target:
                    annex.append(f"Site {len(annex) + 1}: {rng.choice(SIGNALS)};"
                                 f" {rng.choice(RESPONSES)}.")
                    size += len(annex[-1]) + 4
                body["annex"] = annex
        if not visible(headers, clearances[a.name]):
            headers["class"] = clearances[a.name]  # nobody posts above their own clearance
        if rng.random() < 0.35:
            headers["id"] = f"scn-{run_id}-{i:05d}"
        body["ref"] = f"{seed}/{i}"
        out.append(Outgoing(i, a.name, topic, headers, encode_payload(body, rng)))
    return out


# --------------------------------------------------------------------------- run


def percentile(values, p: float) -> float:
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)]


def publish_all(client: LiaisonClient, msgs: list, dups: list, rng: random.Random,
                pipeline: int, report: Report, published: dict, plock: threading.Lock,
                start: threading.Event) -> None:
    """One publisher thread: bursts of 1..pipeline PUBs, each burst sent before its replies are
    read; then re-sends of `dups` (must answer `OK PUB <first seq> DUP`); then QUIT."""
    who = client.label
    last = 0
    try:
        start.wait()
        i = 0
        while i < len(msgs):
            burst = msgs[i : i + rng.randint(1, pipeline)]
            i += len(burst)
            sent_at = time.monotonic()
            client.send(b"".join(encode_pub(m.topic, m.headers, m.payload) for m in burst))
            for m in burst:
                reply = client.read_reply()
                m.latency_ms = (time.monotonic() - sent_at) * 1000.0
                a = reply.args
                if reply.verb != "OK" or len(a) != 2 or a[0] != "PUB" or not SIZE_RE.match(a[1]):
                    report.fail(f"{who}: PUB {m.topic} ({len(m.payload)} bytes) answered"
                                f" {reply.line!r}")
                    continue
                m.seq = int(a[1])
                if m.seq <= last:  # not a pass criterion, but a reader would see this publisher's
                    report.note(f"note: {who}: seq {m.seq} acknowledged after seq {last}")  # order
                last = max(last, m.seq)
                with plock:
                    if m.seq in published:
                        report.fail(f"{who}: seq {m.seq} acknowledged twice")
                    published[m.seq] = m
        for m in dups:
            if m.seq is None:
                continue
            client.send(encode_pub(m.topic, m.headers, m.payload))
            reply = client.read_reply()
            if reply.line != f"OK PUB {m.seq} DUP":
                report.fail(f"{who}: repeat of id={m.headers['id']} answered {reply.line!r},"
                            f" expected 'OK PUB {m.seq} DUP'")
        client.send(b"QUIT\n")
        reply = client.read_reply()
        if reply.line != "OK BYE":
            report.fail(f"{who}: QUIT answered {reply.line!r}")
    except (ConnectionClosed, ProtocolViolation, OSError) as error:
        report.fail(f"{who}: {error}")
    finally:
        client.close()


def expected_seqs(published: dict, pattern: str, clearance: str) -> tuple:
    """The acknowledged seqs a subscription with `pattern`, read by an account with `clearance`,
    must receive, and the number its pattern matches but its clearance withholds."""
    matching = [(seq, m) for seq, m in published.items() if topic_matches(pattern, m.topic)]
    wanted = {seq for seq, m in matching if visible(m.headers, clearance)}
    return wanted, len(matching) - len(wanted)


@dataclass
class Refusal:
    """One deliberate violation of REFUSED_PLAN and the reply it got."""

    account: str
    action: str
    target: str
    headers: dict
    why: str
    reply: str = "(not attempted)"

    @property
    def refused(self) -> bool:
        return self.reply.startswith("ERR 403")


def attempt_refusals(host: str, port: int, tokens: dict, timeout: float, report: Report,
                     start: threading.Event) -> list:
    """Makes each REFUSED_PLAN attempt on its own authenticated connection; each must be
    answered `ERR 403`, after which the connection must still answer PING and QUIT.

    A SUB the daemon wrongly accepts is ended with UNSUB; a PUB it wrongly accepts shows up too as
    an extra delivery to the `>` subscriber. Returns the attempts with their replies.
    """
    out = []
    start.wait()
    for account, action, target, headers, why in REFUSED_PLAN:
        r = Refusal(account, action, target, headers, why)
        out.append(r)
        client = None
        try:
            client = LiaisonClient(host, port, f"refused {account}", timeout=timeout)
            client.command(f"AUTH {account} {tokens[account]}", f"OK AUTH {account}")
            if action == "pub":
                body = {"type": "scenario.refused", "account": account, "why": why}
                client.send(encode_pub(target, headers, json.dumps(body).encode()))
            else:
                client.send(f"SUB refused {target} from=new\n".encode())
            r.reply = client.read_reply(lambda d: None).line
            if not r.refused:
                report.fail(f"{account}: {action.upper()} {target} {headers or ''} answered"
                            f" {r.reply!r}, expected ERR 403 ({why})")
                if r.reply.startswith("OK SUB"):
                    client.command("UNSUB refused", "OK UNSUB", lambda d: None)
            client.command("PING", "PONG", lambda d: None)
            client.command("QUIT", "OK BYE", lambda d: None)
        except (ScenarioError, ConnectionClosed, ProtocolViolation, OSError) as error:
            report.fail(f"{account}: refused {action} {target}: {error}")
        finally:
            if client is not None:
                client.close()
    return out


def check_subscription(sub: Subscriber, sid: str, pattern: str, expected: set,
                       published: dict) -> tuple:
    """Compares one sid's deliveries with `expected`, the seqs it must receive.

    Returns (expected count, received count, [difference text]), at most 13 differences.
    """
    got = sub.received[sid]
    name = f"{sub.account}/{sid} ({pattern})"
    problems = []
    seen = set()
    last = 0
    for d in got:
        if d.seq in seen:
            problems.append(f"seq {d.seq} delivered twice")
        elif d.seq <= last:
            problems.append(f"seq {d.seq} arrived after seq {last}")
        seen.add(d.seq)
        last = max(last, d.seq)
        m = published.get(d.seq)
        if m is None or d.seq not in expected:
            what = ("an unknown seq" if m is None else
                    f"topic {m.topic} class {m.headers.get('class', 'internal')}")
            problems.append(f"extra seq {d.seq} ({what})")
            continue
        if d.topic != m.topic or d.account != m.account:
            problems.append(f"seq {d.seq}: MSG says {d.topic} by {d.account},"
                            f" published {m.topic} by {m.account}")
        if d.payload != m.payload:
            problems.append(f"seq {d.seq}: payload differs ({len(d.payload)} bytes received,"
                            f" {len(m.payload)} published)")
        lost = {k: v for k, v in m.headers.items() if d.headers.get(k) != v}
        if lost:
            problems.append(f"seq {d.seq}: headers {lost} not passed through (got {d.headers})")
    missing = sorted(expected - seen)
    if missing:
        problems.append(f"{len(missing)} missing, first seqs {missing[:10]}")
    shown = [f"{name}: {text}" for text in problems[:12]]
    if len(problems) > 12:
        shown.append(f"{name}: ... and {len(problems) - 12} more differences")
    return len(expected), len(got), shown


@dataclass
class Config:
    """Run parameters (the command line, or the self-test's)."""

    host: str
    port: int
    messages: int = 400
    seed: int = 1
    deadline: float = 30.0
    pipeline: int = 8
    dups: int = 3
    clearances: dict = field(default_factory=dict)  # account -> clearance; missing: default
    audit: Optional[Callable[[], list]] = None  # (kind, account) security events since the start
    run_id: str = field(default_factory=lambda: os.urandom(4).hex())


def run_scenario(cfg: Config, network: str, accounts: list, tokens: dict,
                 out: Callable[[str], None] = print) -> bool:
    """Runs the day against cfg.host:cfg.port and prints a summary. Returns True on PASS."""
    report = Report(out)
    subscribers, t_begin = [], time.monotonic()
    published, plock = {}, threading.Lock()
    traffic, pub_seconds, wanted = [], 0.0, {}
    clearances = {**clearances_for(accounts), **cfg.clearances}
    refusals, refusal_box = [], []
    try:
        for account, subs in SUBSCRIBER_PLAN:
            subscribers.append(Subscriber(cfg.host, cfg.port, account, tokens[account], subs,
                                          report))
        first = subscribers[0].client
        out(f"scenario: connected to node {first.node} ({first.greeting!r});"
            f" {sum(len(s) for _, s in SUBSCRIBER_PLAN)} subscriptions on {len(subscribers)}"
            f" connections")
        traffic = generate_traffic(accounts, cfg.messages, cfg.seed, cfg.run_id, first.max_payload,
                                   clearances)
        by_account = {}
        for m in traffic:
            by_account.setdefault(m.account, []).append(m)
        dup_pool = [m for m in traffic if "id" in m.headers]
        dup_rng = random.Random(f"{cfg.seed}:dups")
        dups = set(id(m) for m in dup_rng.sample(dup_pool, min(cfg.dups, len(dup_pool))))
        clients = []
        try:  # every publisher connects and authenticates before any of them starts
            for account in by_account:
                clients.append(LiaisonClient(cfg.host, cfg.port, f"publisher {account}",
                                             timeout=cfg.deadline))
                clients[-1].command(f"AUTH {account} {tokens[account]}", f"OK AUTH {account}")
        except BaseException:
            for client in clients:
                client.close()
            raise
        start, threads = threading.Event(), []
        for client, (account, msgs) in zip(clients, by_account.items()):
            mine = [m for m in msgs if id(m) in dups]
            rng = random.Random(f"{cfg.seed}:{account}")
            t = threading.Thread(target=publish_all, name=f"pub-{account}", daemon=True,
                                 args=(client, msgs, mine, rng, cfg.pipeline, report, published,
                                       plock, start))
            t.start()
            threads.append(t)
        # The violations run alongside the day's traffic, as mistakes would.
        t = threading.Thread(target=lambda: refusal_box.extend(attempt_refusals(
            cfg.host, cfg.port, tokens, cfg.deadline, report, start)), name="refused",
            daemon=True)
        t.start()
        threads.append(t)
        t_pub = time.monotonic()
        start.set()
        for t in threads:
            t.join(max(0.1, cfg.deadline - (time.monotonic() - t_pub)))
        if any(t.is_alive() for t in threads):
            report.fail(f"publishers still running after {cfg.deadline:.0f} s")
        pub_seconds = time.monotonic() - t_pub
        refusals = list(refusal_box)
        with plock:
            published = dict(published)
        wanted = {(s.account, sid): expected_seqs(published, p, clearances[s.account])
                  for s in subscribers for sid, p in s.subs}

        def complete(s: Subscriber) -> bool:
            with s.cond:
                return s.closed or all(wanted[(s.account, sid)][0]
                                       <= {d.seq for d in s.received[sid]} for sid, _ in s.subs)

        deadline = time.monotonic() + cfg.deadline
        while not all(complete(s) for s in subscribers):
            if time.monotonic() > deadline:
                report.fail(f"deliveries incomplete after the {cfg.deadline:.0f} s deadline")
                break
            time.sleep(0.05)
        # A PING round trip per subscriber, then a short pause, catches late extra deliveries.
        for s in subscribers:
            if not s.closed:
                reply = s.request("PING", 5.0)
                if reply is None or reply.line != "PONG":
                    report.fail(f"{s.account}: PING answered {reply and reply.line!r}")
        time.sleep(0.2)
    except (ScenarioError, ProtocolViolation, ConnectionClosed, OSError, KeyError) as error:
        report.fail(f"{type(error).__name__}: {error}")
    for s in subscribers:
        s.finish()

    posters = {m.account for m in published.values()}
    lat = [m.latency_ms for m in published.values() if m.latency_ms is not None]
    by_class = {}
    for m in published.values():
        by_class[class_of(m.headers)] = by_class.get(class_of(m.headers), 0) + 1
    out(f"scenario: {len(published)} of {len(traffic)} messages acknowledged, posted by"
        f" {len(posters)} accounts (seed {cfg.seed}, run {cfg.run_id}, {cfg.dups} repeats by id)")
    out("scenario: classes " + ", ".join(f"{c} {by_class.get(c, 0)}" for c in CLASSES)
        + "; clearances raised or lowered: "
        + ", ".join(f"{n} {c}" for n, c in CLEARANCE_PLAN.items()))
    if lat:
        out(f"scenario: publish-ack latency p50 {percentile(lat, 0.5):.2f} ms,"
            f" p99 {percentile(lat, 0.99):.2f} ms, max {max(lat):.2f} ms;"
            f" {len(lat) / max(pub_seconds, 1e-6):.0f} msg/s")
    if traffic:
        out(f"  {'subscriber':<17} {'clearance':<21} {'sid':<10} {'pattern':<29}"
            f" {'expected':>8} {'withheld':>8} {'received':>8}")
    differences, withheld_total = [], 0
    for s in subscribers if traffic else []:
        for sid, pattern in s.subs:
            expected, withheld = wanted.get((s.account, sid), (set(), 0))
            withheld_total += withheld
            exp, got, shown = check_subscription(s, sid, pattern, expected, published)
            differences += shown
            out(f"  {s.account:<17} {clearances[s.account]:<21} {sid:<10} {pattern:<29}"
                f" {exp:>8} {withheld:>8} {got:>8}")
    for text in differences:
        report.fail(text)
    if traffic and withheld_total == 0:
        out("note: no delivery was withheld by clearance; this day did not exercise clearance")
    if traffic:
        refused = sum(r.refused for r in refusals)
        out(f"scenario: {refused} of {len(REFUSED_PLAN)} deliberate violations refused with"
            f" ERR 403")
        for r in refusals:
            shown = " ".join([r.target] + [f"{k}={v}" for k, v in r.headers.items()])
            out(f"  {'ok  ' if r.refused else 'FAIL'} {r.account:<17} {r.action.upper():<3} {shown}"
                f"  ({r.why})")
            out(f"       -> {r.reply}")
        if len(refusals) != len(REFUSED_PLAN):
            report.fail(f"only {len(refusals)} of {len(REFUSED_PLAN)} violations were attempted")
        if cfg.audit is not None and refusals:
            check_audit(cfg.audit, refusals, report, out)
    if traffic and len(posters) < 20:
        report.fail(f"only {len(posters)} accounts posted; the scenario needs at least 20")
    out(f"scenario: {time.monotonic() - t_begin:.1f} s in all")
    ok = not report.failures
    out("scenario: PASS" if ok else f"scenario: FAIL ({len(report.failures)} problems)")
    return ok


def check_audit(audit: Callable[[], list], refusals: list, report: Report,
                out: Callable[[str], None]) -> None:
    """Each refused attempt must appear in the audit trail as a `pub.refused` or `sub.refused`
    event of its account. `audit()` returns the (kind, account) pairs recorded since the run
    began; the daemon writes its events in batches, so this polls for up to 5 s."""
    want = {}
    for r in refusals:
        key = (f"{r.action}.refused", r.account)
        want[key] = want.get(key, 0) + 1
    deadline = time.monotonic() + 5.0
    while True:
        have = {}
        try:
            events = audit()
        except (ScenarioError, OSError, ValueError, KeyError, subprocess.TimeoutExpired) as error:
            report.fail(f"cannot read the audit trail: {error}")
            return
        for key in events:
            have[key] = have.get(key, 0) + 1
        short = {k: n for k, n in want.items() if have.get(k, 0) < n}
        if not short or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    if short:
        report.fail("security events missing from the audit trail: "
                    + ", ".join(f"{kind} of {account}" for kind, account in sorted(short)))
    else:
        out(f"scenario: audit trail holds a refusal event for each of the {len(refusals)}"
            f" violations")


def issue_tokens(liaisonctl: str, database_url: Optional[str], names) -> dict:
    """Runs `liaisonctl token issue <account>` per account (4 at a time) and returns the tokens."""

    def one(name: str) -> tuple:
        argv = [liaisonctl, "token", "issue", name]
        if database_url:
            argv += ["--database-url", database_url]
        done = subprocess.run(argv, capture_output=True, text=True, env=os.environ, timeout=60)
        token = done.stdout.strip()
        if done.returncode != 0 or not TOKEN_RE.match(token):
            raise ScenarioError(f"'{' '.join(argv[:4])}' exited {done.returncode}:"
                                f" {done.stderr.strip()[:300] or 'no token on stdout'}")
        return name, token

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        return dict(pool.map(one, sorted(names)))


def liaisonctl_run(liaisonctl: str, database_url: Optional[str], args: list) -> str:
    """Runs `liaisonctl <args> [--database-url URL]`; returns stdout, or raises ScenarioError
    quoting the command (never a token) and its standard error."""
    argv = [liaisonctl] + args + (["--database-url", database_url] if database_url else [])
    done = subprocess.run(argv, capture_output=True, text=True, env=os.environ, timeout=60)
    if done.returncode != 0:
        raise ScenarioError(f"'{' '.join(argv[: len(args) + 1])}' exited {done.returncode}:"
                            f" {done.stderr.strip()[:300]}")
    return done.stdout


def set_clearances(liaisonctl: str, database_url: Optional[str], plan: dict) -> tuple:
    """Sets each account's clearance of `plan` with `liaisonctl account clearance`, then reads
    every account's clearance back from `liaisonctl account list --json`.

    Returns ({account: clearance} for every account, [(name, old, new)] for the changed ones).
    Raises ScenarioError when a command fails or an account does not end at its planned level.
    """
    changed = []
    for name, level in plan.items():
        said = liaisonctl_run(liaisonctl, database_url, ["account", "clearance", name, level])
        m = re.search(r":\s*(\S+)\s*->\s*(\S+)", said)
        if m is None:
            raise ScenarioError(f"'account clearance {name} {level}' printed {said.strip()!r}")
        if m.group(1) != m.group(2):
            changed.append((name, m.group(1), m.group(2)))
    listed = {}
    listing = liaisonctl_run(liaisonctl, database_url, ["account", "list", "--json"])
    for line in listing.splitlines():
        if line.strip():
            entry = json.loads(line)
            listed[entry["name"]] = entry["clearance"]
    wrong = {n: listed.get(n) for n, level in plan.items() if listed.get(n) != level}
    if wrong:
        raise ScenarioError(f"clearances not as set: {wrong}")
    return listed, changed


def audit_reader(liaisonctl: str, database_url: Optional[str]) -> Callable[[], list]:
    """A function returning the (kind, account) of the `pub.refused` and `sub.refused` events
    recorded from now on (now less 1 s, read with `liaisonctl audit events --since`)."""
    since = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=1))
    since_text = since.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def read() -> list:
        events = []
        for kind in ("pub.refused", "sub.refused"):
            text = liaisonctl_run(liaisonctl, database_url, ["audit", "events", "--kind", kind,
                                                             "--since", since_text,
                                                             "--limit", "10000", "--json"])
            events += [(e["kind"], e["account"])
                       for e in map(json.loads, filter(str.strip, text.splitlines()))]
        return events

    return read


# --------------------------------------------------------------------------- self-test


class _FakeBroker:
    """A minimal in-process broker for the self-test (loopback only). It enforces the default
    rules and the clearances like the daemon. `fault` makes it misbehave so the test can show
    that the checks catch it: once ("drop", "corrupt", "repeat" a delivery, "forbid" an allowed
    PUB), or throughout ("permit": no rules and no clearance checks on PUB and SUB; "leak": no
    clearance filter on delivery)."""

    def __init__(self, accounts: list, clearances: dict, fault: Optional[str] = None):
        self.fault, self.faulted = fault, False
        self.accounts = {a.name: a for a in accounts}
        self.clearances = clearances
        self.lock = threading.Lock()
        self.seq, self.subs, self.ids = 0, [], {}
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        wlock, parser, account, commands = threading.Lock(), FrameParser({"PUB": 2}, 4096), None, 0

        def send(data: bytes) -> None:
            with wlock:
                conn.sendall(data)

        send(b"LIAISON 1 node=fake max_payload=1048576\n")
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                parser.feed(data)
                while (f := parser.next()) is not None:
                    commands += 1
                    if commands == 3:
                        send(b"PING\n")
                    if f.verb == "AUTH":
                        ok = f.args[1:] == [f"tok-{f.args[0]}"]
                        account = f.args[0] if ok else account
                        send(f"OK AUTH {f.args[0]}\n".encode() if ok else b"ERR 401 bad token\n")
                    elif f.verb == "SUB":
                        if self.fault != "permit" and not may_subscribe(self.accounts[account],
                                                                        f.args[1]):
                            send(f"ERR 403 account {account} may not read all of"
                                 f" {f.args[1]}\n".encode())
                            continue
                        with self.lock:
                            self.subs.append((send, account, f.args[0], f.args[1]))
                        send(f"OK SUB {f.args[0]}\n".encode())
                    elif f.verb == "UNSUB":
                        with self.lock:
                            self.subs = [x for x in self.subs
                                         if not (x[0] is send and x[2] == f.args[0])]
                        send(f"OK UNSUB {f.args[0]}\n".encode())
                    elif f.verb == "PUB":
                        send(self._publish(account, f))
                    elif f.verb == "PING":
                        send(b"PONG\n")
                    elif f.verb == "QUIT":
                        send(b"OK BYE\n")
                        return
        except OSError:
            return
        finally:
            conn.close()

    def _publish(self, account: str, f: Frame) -> bytes:
        headers = parse_headers(f.args[2:])
        key = (account, headers.get("id"))
        with self.lock:
            if key[1] is not None and key in self.ids:
                return f"OK PUB {self.ids[key]} DUP\n".encode()
            if self.fault != "permit" and not may_publish(self.accounts[account],
                                                          self.clearances[account], f.args[0],
                                                          headers):
                return f"ERR 403 account {account} may not publish to {f.args[0]}\n".encode()
            if self.fault == "forbid" and self.seq >= 20 and not self.faulted:
                self.faulted = True
                return b"ERR 403 not allowed to publish on this topic\n"
            self.seq += 1
            self.ids[key] = self.seq
            when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            extra = "".join(f" {k}={v}" for k, v in headers.items())
            for send, reader, sid, pattern in self.subs:
                if not topic_matches(pattern, f.args[0]):
                    continue
                if self.fault != "leak" and not visible(headers, self.clearances[reader]):
                    continue
                payload = f.payload
                faulty = self.fault in ("drop", "corrupt", "repeat")
                if faulty and self.seq >= 20 and not self.faulted:
                    self.faulted = True
                    if self.fault == "drop":
                        continue
                    if self.fault == "corrupt":
                        payload = payload[:-1] + bytes([payload[-1] ^ 1])
                line = f"MSG {sid} {self.seq} {f.args[0]} {account} {when} {len(payload)}{extra}\n"
                frame = line.encode() + payload + b"\r\n"
                send(frame + frame if self.fault == "repeat" and self.faulted else frame)
                if self.fault == "repeat" and self.faulted:
                    self.fault = None
            return f"OK PUB {self.seq}\n".encode()

    def close(self) -> None:
        self.listener.close()


def self_test(network_path: str) -> bool:
    """Offline checks: matcher, containment, frame parser, accounts file, the plan against the
    default rules, traffic, and the whole run against an in-process fake broker (it must PASS,
    and FAIL when the broker drops, corrupts or repeats a delivery, refuses an allowed PUB,
    accepts a violation, or delivers above a reader's clearance)."""
    failures = []

    def check(cond: bool, what: str) -> None:
        if not cond:
            failures.append(what)

    matcher = [
        ("hq.>", "hq.ohchr.guidance-note.rec-01", True), ("hq.>", "hq", False),
        ("hq.>", "hq.x", True), ("field.*.*.early-warning", "field.mm.sittwe.early-warning", True),
        ("field.*.*.early-warning", "field.mm.sittwe.report", False),
        ("field.*.*.early-warning", "field.mm.early-warning", False),
        ("field.mm.>", "field.ba.sarajevo.report", False), ("*", "net", True),
        ("*", "net.a", False),
        (">", "net.announce", True), ("net.announce", "net.announce", True),
        ("net.announce", "net.Announce", False), ("hq.*", "hq.ohchr.x", False),
        ("hq.*.action-plan.*", "hq.undp.action-plan.ap-03", True), ("a.b.c", "a.b", False),
        ("a.b", "a.b.c", False), ("*.*", "a.b", True), ("a.*.>", "a.b", False),
    ]
    for pattern, topic, want in matcher:
        check(topic_matches(pattern, topic) == want, f"match {pattern} {topic} != {want}")
    for text, ok in [("hq.ohchr", True), ("", False), ("a..b", False), (".a", False),
                     ("a.", False), ("a b", False), ("a*", False), ("x" * 255, True),
                     ("x" * 256, False), ("é", False)]:
        check(valid_topic(text) == ok, f"valid_topic({text[:20]!r}) != {ok}")
    for text, ok in [("hq.>", True), (">", True), ("a.>.b", False), ("a.b>", False),
                     ("*.x.*", True), ("a*.b", False)]:
        check(valid_pattern(text) == ok, f"valid_pattern({text!r}) != {ok}")
    within = [  # (outer, inner, inner within outer); the first four are docs/SECURITY.md's
        ("a.>", "a.*.c", True), ("a.b.*", "a.>", False), (">", "*", True), ("a.>", ">", False),
        ("field.>", "field.*.*.early-warning", True), ("field.mm.>", "field.*.*.report", False),
        ("field.mm.>", "field.mm.>", True), ("field.mm.>", "field.mm", False),
        ("hq.>", "hq.*.guidance-note.>", True), ("hq.*", "hq.*.x", False), ("a.*", "a.b", True),
        ("a.b", "a.*", False), ("a.b", "a.b", True), ("*.*", "a.>", False),
        ("a.*.>", "a.b.c", True),
    ]
    for outer, inner, want in within:
        check(pattern_within(outer, inner) == want, f"within({outer}, {inner}) != {want}")

    payload = b'{"a":1}\r\n{"b":"\xc3\xa9"}\n\r'
    stream = (b"LIAISON 1 node=n1 max_payload=1024\r\nOK AUTH ohchr\nPING\n"
              + b"MSG s1 7 field.mm.sittwe.report unhcr-mm-sittwe 2026-11-29T10:00:00.123456Z "
              + str(len(payload)).encode() + b" prio=flash class=confidential\n" + payload + b"\n"
              + b"MSG s2 8 net.announce netadmin 2026-11-29T10:00:01.000001Z 0\r\n\r\n"
              + b"ERR 403 forbidden topic\nOK PUB 9 DUP\n")

    def parse_all(chunks) -> list:
        p, frames = FrameParser(), []
        for c in chunks:
            p.feed(c)
            while (f := p.next()) is not None:
                frames.append(f)
        check(p.next() is None and len(p.buf) == p.start, "bytes left over after the stream")
        return frames

    whole = parse_all([stream])
    check([f.verb for f in whole] == ["LIAISON", "OK", "PING", "MSG", "MSG", "ERR", "OK"],
          f"frame verbs {[f.verb for f in whole]}")
    rnd = random.Random(7)
    cuts = sorted(rnd.sample(range(1, len(stream)), 12))
    for chunks in ([stream[i : i + 1] for i in range(len(stream))],
                   [stream[a:b] for a, b in zip([0] + cuts, cuts + [len(stream)])]):
        check(parse_all(chunks) == whole, "split stream parses differently")
    d = parse_delivery(whole[3])
    check((d.sid, d.seq, d.topic, d.account, d.payload) ==
          ("s1", 7, "field.mm.sittwe.report", "unhcr-mm-sittwe", payload), f"MSG fields {d}")
    check(d.headers == {"prio": "flash", "class": "confidential"}, f"headers {d.headers}")
    check(parse_delivery(whole[4]).payload == b"", "empty payload")
    check(whole[0].line == "LIAISON 1 node=n1 max_payload=1024", "CR kept in line")
    for bad in [b"MSG s 1 t a 2026-11-29T10:00:00Z 3\nabcX",
                b"MSG s 1 t a 2026-11-29T10:00:00Z x\n",
                b"MSG s 1 t a 2026-11-29T10:00:00Z 2\nab\rX", b"x" * 70000, b"\n", b"OK \xff\n"]:
        try:
            parse_all([bad + b"\n"])
            check(False, f"no ProtocolViolation for {bad[:40]!r}")
        except ProtocolViolation:
            pass
    for bad_line in ["MSG s 0 t a 2026-11-29T10:00:00Z 0", "MSG s 1 t a yesterday 0",
                     "MSG s 1 a..b a 2026-11-29T10:00:00Z 0",
                     "MSG s 1 t a 2026-11-29T10:00:00Z 0 k",
                     "MSG s 1 t a 2026-11-29T10:00:00Z 0 k=1 k=2"]:
        try:
            parse_delivery(Frame("MSG", bad_line, bad_line.split(" ")[1:], b""))
            check(False, f"parse_delivery accepted {bad_line!r}")
        except ProtocolViolation:
            pass
    check(encode_pub("a.b", {"id": "x"}, b"\r\n") == b"PUB a.b 2 id=x\n\r\n\n", "encode_pub")

    name, accounts = load_network(network_path)
    entities = [a for a in accounts if a.kind == "entity" and a.role == "member"]
    offices = [a for a in accounts if a.kind == "office"]
    admins = [a.name for a in accounts if a.role == "admin"]
    check(len(entities) >= 22, f"only {len(entities)} member entities")
    check(len({a.country for a in offices}) >= 4, "field offices in fewer than 4 countries")
    check(admins == ["netadmin"], f"admins {admins}")
    names = {a.name for a in accounts}
    check(all(acc in names for acc, _ in SUBSCRIBER_PLAN), "a subscriber is not in the network")
    check(all(valid_pattern(p) and SID_RE.match(s) for _, subs in SUBSCRIBER_PLAN
              for s, p in subs), "bad sid or pattern in the plan")

    by_name, clearances = {a.name: a for a in accounts}, clearances_for(accounts)
    check(all(n in names for n in CLEARANCE_PLAN), "a planned clearance names no account")
    for acc, subs in SUBSCRIBER_PLAN:
        for sid, pattern in subs:
            check(may_subscribe(by_name[acc], pattern), f"{acc} may not SUB {pattern}")
    for acc, action, target, headers, why in REFUSED_PLAN:
        allowed = (may_publish(by_name[acc], clearances[acc], target, headers) if action == "pub"
                   else may_subscribe(by_name[acc], target))
        check(not allowed and (valid_topic(target) if action == "pub" else valid_pattern(target)),
              f"violation {acc} {action} {target} would be allowed or is malformed ({why})")

    day = generate_traffic(accounts, 400, 1, "r", 1 << 20, clearances)
    check(day == generate_traffic(accounts, 400, 1, "r", 1 << 20, clearances),
          "traffic not deterministic")
    check(day != generate_traffic(accounts, 400, 2, "r", 1 << 20, clearances),
          "seed has no effect")
    check(all(may_publish(by_name[m.account], clearances[m.account], m.topic, m.headers)
              for m in day), "a generated PUB is outside its publisher's rules or clearance")
    for level in CLASSES:
        check(any(class_of(m.headers) == level for m in day), f"no class={level} message")
    withheld = sum(expected_seqs({i: m for i, m in enumerate(day)}, p, clearances[acc])[1]
                   for acc, subs in SUBSCRIBER_PLAN for _, p in subs)
    check(withheld > 20, f"only {withheld} deliveries withheld by clearance")
    check(any(m.topic == "net.announce" and by_name[m.account].role == "member" for m in day),
          "no entity posts on net.announce")
    check(len({m.account for m in day}) >= 20, "fewer than 20 posters")
    check(all(valid_topic(m.topic) for m in day), "invalid topic generated")
    check(all(json.loads(m.payload.decode()) for m in day), "payload is not JSON")
    check(any(b"\r" in m.payload for m in day) and any(b"\n" in m.payload for m in day),
          "no payload holds CR and LF")
    check(any(m.payload.endswith(b"\r") for m in day), "no payload ends in CR")
    check(any(len(m.payload) > 16000 for m in day), "no large payload")
    for key, value in [("prio", "flash"), ("class", "confidential"), ("lang", "fr")]:
        check(any(m.headers.get(key) == value for m in day), f"no {key}={value} header")
    ids = [m.headers["id"] for m in day if "id" in m.headers]
    check(len(ids) > 20 and len(ids) == len(set(ids)), "id headers missing or repeated")
    for prefix in ("hq.", "field.", "net.announce"):
        check(any(m.topic.startswith(prefix) for m in day), f"no {prefix} traffic")

    tokens = {a.name: f"tok-{a.name}" for a in accounts}
    # (fault, clearances the broker enforces, run must pass). A broker that ignores
    # CLEARANCE_PLAN refuses the cleared accounts' confidential posts and accepts dgc's unmarked
    # one, so the run must fail.
    all_internal = {n: ("internal" if c != "strictly-confidential" else c)
                    for n, c in clearances.items()}
    runs = [(None, clearances, True), ("drop", clearances, False),
            ("corrupt", clearances, False), ("repeat", clearances, False),
            ("forbid", clearances, False), ("permit", clearances, False),
            ("leak", clearances, False), (None, all_internal, False)]
    for fault, enforced, want in runs:
        broker = _FakeBroker(accounts, enforced, fault)
        lines = []
        try:
            cfg = Config("127.0.0.1", broker.port, messages=150, seed=3,
                         deadline=10.0 if want else 1.5)
            passed = run_scenario(cfg, name, accounts, tokens, lines.append)
        finally:
            broker.close()
        check(passed == want, f"run against fake broker (fault={fault}, clearances"
              f" {'planned' if enforced is clearances else 'all internal'}) passed={passed}:\n  "
              + "\n  ".join(lines))
        if fault is None and want:
            check(any("p50" in line for line in lines), "no latency line in the summary")
            check(any(f"{len(REFUSED_PLAN)} of {len(REFUSED_PLAN)} deliberate" in line
                      for line in lines), "refusals not reported in the summary")
    for f in failures:
        print(f"self-test FAIL: {f}")
    print(f"self-test: {'PASS' if not failures else 'FAIL'} ({len(matcher)} matcher cases,"
          f" {len(within)} containment cases,"
          f" {len(accounts)} accounts, {len(runs)} runs against an in-process fake broker)")
    return not failures


def main(argv=None) -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    # Like liaisonctl: the daemon from $LIAISON_SERVER (HOST:PORT) unless --host/--port say otherwise.
    env_host, _, env_port = os.environ.get("LIAISON_SERVER", "").rpartition(":")
    ap.add_argument("--host", default=env_host.strip("[]") or "127.0.0.1",
                    help="the daemon's host (default: from $LIAISON_SERVER, else 127.0.0.1)")
    ap.add_argument("--port", type=int, default=int(env_port) if env_port.isdigit() else 7420,
                    help="the daemon's port (default: from $LIAISON_SERVER, else 7420)")
    ap.add_argument("--liaisonctl",
                    help="path of liaisonctl: issues a token per account, sets the clearances,"
                    " reads the audit trail")
    ap.add_argument("--database-url",
                    help="passed to every liaisonctl command (token issue, account clearance,"
                    " account list, audit events)")
    ap.add_argument("--messages", type=int, default=400, help="messages in the day (default 400)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the day's traffic (default 1)")
    ap.add_argument("--deadline", type=float, default=30.0,
                    help="seconds to wait for publishes and for deliveries (default 30)")
    ap.add_argument("--pipeline", type=int, default=8, help="largest burst of pipelined PUBs")
    ap.add_argument("--dups", type=int, default=3,
                    help="messages re-sent with the same id, which must be answered DUP")
    ap.add_argument("--reload-wait", type=float, default=2.5,
                    help="seconds to wait after a clearance changed, for the daemon to reload its"
                    " rules (it polls once a second; default 2.5)")
    ap.add_argument("--network", default=os.path.join(here, "..", "config", "network.json"),
                    help="accounts file (default config/network.json)")
    ap.add_argument("--self-test", action="store_true",
                    help="offline checks of the matcher, frame parser and checks; no server")
    args = ap.parse_args(argv)
    if args.self_test:
        try:
            return 0 if self_test(args.network) else 1
        except Exception as error:  # a crash is a failed check too; say where it happened
            import traceback

            traceback.print_exc()
            print(f"self-test: FAIL ({type(error).__name__}: {error})")
            return 1
    if not args.liaisonctl:
        ap.error("--liaisonctl PATH is required (or --self-test)")
    if args.messages < 1 or args.pipeline < 1 or args.dups < 0 or args.reload_wait < 0:
        ap.error("--messages and --pipeline must be at least 1, --dups and --reload-wait at"
                 " least 0")
    try:
        name, accounts = load_network(args.network)
        needed = {a.name for a in accounts} | {acc for acc, _ in SUBSCRIBER_PLAN}
        print(f"scenario: {name}: issuing {len(needed)} tokens with {args.liaisonctl}")
        tokens = issue_tokens(args.liaisonctl, args.database_url, needed)
        clearances, changed = set_clearances(args.liaisonctl, args.database_url, CLEARANCE_PLAN)
        print(f"scenario: set {len(CLEARANCE_PLAN)} clearances with `liaisonctl account"
              f" clearance` ({len(changed)} changed"
              + "".join(f"; {n} {old} -> {new}" for n, old, new in changed) + ")")
        if changed:
            time.sleep(args.reload_wait)  # the daemon reloads access rules within about 1 s
        audit = audit_reader(args.liaisonctl, args.database_url)
    except (ScenarioError, OSError, ValueError, KeyError, subprocess.TimeoutExpired) as error:
        print(f"scenario: {error}")
        print("scenario: FAIL")
        return 1
    cfg = Config(args.host, args.port, args.messages, args.seed, args.deadline, args.pipeline,
                 args.dups, clearances, audit)
    return 0 if run_scenario(cfg, name, accounts, tokens) else 1


if __name__ == "__main__":
    sys.exit(main())

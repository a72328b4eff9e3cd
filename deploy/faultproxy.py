#!/usr/bin/env python3
"""A TCP fault proxy for loopback tests: forwards connections and breaks them on command.

Usage:
    python3 deploy/faultproxy.py --listen 127.0.0.1:0 --target 127.0.0.1:7420 --control 127.0.0.1:0

Once both ports listen it prints one line on stdout, e.g.
    LISTEN 127.0.0.1:41234 CONTROL 127.0.0.1:41235
and serves until it is killed or told `quit`. Every connection accepted on the listen port is
forwarded to the target, both ways. The control port takes one command per line and answers each
with one line, `OK ...` or `ERR ...`:

    cut                 close every proxied connection, both sides, with a normal FIN
    reset               abort every proxied connection, both sides, with a RST
    stall / unstall     stop / resume forwarding both ways; sockets stay open, bytes pile up
    throttle N          at most N bytes per second per direction per connection (0 = unlimited)
    refuse / accept     reset new connections at once / proxy them again
    cut-after N         cut each connection once N bytes went target -> client (0 = off)
    stats               OK connections=<open> accepted=<total> up=<bytes> down=<bytes>
    help                the list of commands
    quit                answer, close everything, exit 0

It exists because the field offices' links are flaky and the kernels here have no netem: a test
proves "nothing is lost" by driving the daemon through this proxy. It only ever binds or connects
to loopback addresses (127.0.0.0/8, ::1); any other --listen, --target or --control is refused
before a socket is opened. docs/TESTING.md has more. Python 3 standard library only.
"""

import argparse
import errno
import ipaddress
import os
import selectors
import signal
import socket
import struct
import sys
import time

# Bytes read per recv and held per direction before the proxy stops reading: a bound on memory
# that also lets TCP push back on a fast sender instead of the proxy buffering without end.
READ_SIZE = 16 * 1024
BUFFER_CAP = 64 * 1024
# Connections accepted per readiness event, and recv calls when draining a socket before a FIN
# close: both bounded so one busy socket cannot starve the loop.
ACCEPTS_PER_EVENT = 64
DRAIN_READS = 64
# A loopback connect either succeeds or fails at once; one that hangs means the target's backlog
# is full, and the client should hear about it rather than wait forever.
CONNECT_TIMEOUT = 5.0
# The loop wakes at least this often to expire connects and resume throttled writes.
TICK = 0.25
COMMANDS = "cut reset stall unstall throttle refuse accept cut-after stats help quit"


def log(message):
    # stdout carries only the LISTEN line, so a wrapper can read it without parsing noise.
    print(f"faultproxy: {message}", file=sys.stderr, flush=True)


def loopback_address(text, what):
    """Parses HOST:PORT (or [V6]:PORT) and refuses anything that is not a loopback address."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise SystemExit(f"faultproxy: {what} must be HOST:PORT, got {text!r}")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if host == "localhost":
        host = "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        # A name could resolve anywhere; only literal loopback addresses are certain.
        raise SystemExit(f"faultproxy: {what} host must be a literal loopback address, got {host!r}")
    if not address.is_loopback:
        raise SystemExit(f"faultproxy: {what} {host} is not a loopback address (127.0.0.0/8 or ::1): refused")
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    return family, (host, int(port))


def show(sockaddr):
    host, port = sockaddr[0], sockaddr[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def abort(sock):
    """Closes with RST: SO_LINGER {on, 0 s} makes close() discard the queue and reset the peer."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def close_with_fin(sock):
    """Closes with a FIN. Linux answers close() with RST when unread bytes wait in the receive
    queue, so those are read and dropped first: the peer must see EOF, not a reset."""
    try:
        sock.shutdown(socket.SHUT_WR)
        for _ in range(DRAIN_READS):
            if not sock.recv(READ_SIZE):
                break
    except OSError:
        pass  # BlockingIOError: drained; anything else: the peer is gone already
    sock.close()


class Direction:
    """Bytes flowing one way through one connection: read from src, written to dst."""

    def __init__(self, src, dst):
        self.src, self.dst = src, dst
        self.buf = bytearray()
        self.eof = False  # src sent FIN
        self.shut = False  # FIN passed on to dst
        self.ready_at = 0.0  # throttling: when the next chunk may go


class Connection:
    def __init__(self, client, target, cut_after):
        self.client, self.target = client, target
        self.connecting = True
        self.connect_deadline = time.monotonic() + CONNECT_TIMEOUT
        self.up = Direction(client, target)
        self.down = Direction(target, client)
        # Bytes still allowed downstream before the one cut-after cut; None: no limit.
        self.down_budget = cut_after or None
        self.registered = {}  # socket -> events currently in the selector


class Proxy:
    def __init__(self, listen, target, control, max_connections):
        self.target_family, self.target_address = target
        self.max_connections = max_connections
        self.selector = selectors.DefaultSelector()
        self.connections = set()
        self.waiting = set()  # connections with a throttled direction that must wait for its turn
        self.next_sweep = 0.0
        self.controls = {}  # control socket -> (input bytes, output bytes)
        self.stalled = False
        self.refusing = False
        self.rate = 0
        self.cut_after = 0
        self.accepted = self.up_bytes = self.down_bytes = 0
        self.accept_paused_until = 0.0
        self.quitting = False
        self.listener = self.open_listener(*listen)
        self.control = self.open_listener(*control)
        self.selector.register(self.listener, selectors.EVENT_READ, "listen")
        self.selector.register(self.control, selectors.EVENT_READ, "control")

    @staticmethod
    def open_listener(family, address):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(512)
        sock.setblocking(False)
        return sock

    # ------------------------------------------------------------------ event loop

    def serve(self, lifeline=None):
        if lifeline is not None:
            self.selector.register(lifeline, selectors.EVENT_READ, "lifeline")
        print(f"LISTEN {show(self.listener.getsockname())} CONTROL {show(self.control.getsockname())}", flush=True)
        while not self.quitting:
            for key, events in self.selector.select(self.timeout()):
                if key.data == "listen":
                    self.accept_clients()
                elif key.data == "control":
                    self.accept_control()
                elif key.data == "lifeline":
                    # The parent (a test) died or closed our stdin: do not outlive it.
                    if not os.read(lifeline.fileno(), 4096):
                        self.quitting = True
                elif key.data == "ctl":
                    self.on_control(key.fileobj, events)
                else:
                    conn = key.data
                    if conn in self.connections:  # an earlier event in this batch may have closed it
                        self.on_socket(conn, key.fileobj, events)
            self.on_tick()
        self.close_all(close_with_fin)

    def timeout(self):
        # Sleep until the earliest throttled write may go, but never longer than a tick.
        now = time.monotonic()
        wake = now + TICK
        for conn in self.waiting:
            for d in (conn.up, conn.down):
                if d.buf and d.ready_at > now:
                    wake = min(wake, d.ready_at)
        return max(0.0, wake - now)

    def on_tick(self):
        # Runs after every batch of events, so the per-batch work is only the waiting set; the
        # full sweep for stuck connects runs once a tick.
        now = time.monotonic()
        for conn in list(self.waiting):
            self.waiting.discard(conn)
            if conn in self.connections:
                self.refresh(conn)  # re-adds it if its turn has not come yet
        if now < self.next_sweep:
            return
        self.next_sweep = now + TICK
        if self.accept_paused_until and now >= self.accept_paused_until:
            self.accept_paused_until = 0.0
            self.selector.register(self.listener, selectors.EVENT_READ, "listen")
        for conn in [c for c in self.connections if c.connecting and now >= c.connect_deadline]:
            log(f"target {show(self.target_address)} did not answer within {CONNECT_TIMEOUT} s")
            self.drop(conn, abort)

    # ------------------------------------------------------------------ proxied connections

    def accept_clients(self):
        for _ in range(ACCEPTS_PER_EVENT):
            try:
                client, _ = self.listener.accept()
            except BlockingIOError:
                return
            except OSError as error:
                # Out of descriptors, say: pause accepting rather than spin on a readable listener.
                log(f"accept failed: {error}; pausing for 100 ms")
                self.selector.unregister(self.listener)
                self.accept_paused_until = time.monotonic() + 0.1
                return
            self.accepted += 1
            if self.refusing or len(self.connections) >= self.max_connections:
                abort(client)  # an unreachable office: the handshake completes, then RST
                continue
            client.setblocking(False)
            target = socket.socket(self.target_family, socket.SOCK_STREAM)
            target.setblocking(False)
            for sock in (client, target):
                # Throttled chunks are small; Nagle would hold them back and blur the rate.
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            result = target.connect_ex(self.target_address)
            conn = Connection(client, target, self.cut_after)
            self.connections.add(conn)
            if result == 0:
                conn.connecting = False
            elif result not in (errno.EINPROGRESS, errno.EWOULDBLOCK):
                self.drop(conn, abort)  # the target refused: so does the proxy
                continue
            self.refresh(conn)

    def on_socket(self, conn, sock, events):
        if conn.connecting:
            error = conn.target.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if error:
                self.drop(conn, abort)
                return
            conn.connecting = False
        if self.stalled:
            return  # a stall earlier in this batch of events: this event came before it
        try:
            if events & selectors.EVENT_READ:
                self.receive(conn.up if sock is conn.client else conn.down)
            if conn in self.connections and events & selectors.EVENT_WRITE:
                self.transmit(conn, conn.down if sock is conn.client else conn.up)
        except OSError:
            # A peer reset (or any socket error): pass the abort on, like a broken link would.
            self.drop(conn, abort)
            return
        if conn in self.connections:
            if conn.up.shut and conn.down.shut:
                self.drop(conn, lambda s: s.close())  # both FINs passed on: nothing left to read
            else:
                self.refresh(conn)

    def receive(self, d):
        if d.eof or len(d.buf) >= BUFFER_CAP:
            return  # an error event reported as readable; recv(0) would look like EOF
        data = d.src.recv(min(READ_SIZE, BUFFER_CAP - len(d.buf)))
        if data:
            d.buf += data
        else:
            d.eof = True
            self.pass_on_eof(d)

    def transmit(self, conn, d):
        limit = len(d.buf)
        if self.rate:
            now = time.monotonic()
            if now < d.ready_at:
                return
            # Chunks of about 1/20 s of traffic: a slow link trickles rather than bursts.
            limit = min(limit, max(1, min(4096, self.rate // 20)))
        if d is conn.down and conn.down_budget is not None:
            limit = min(limit, conn.down_budget)
        sent = d.dst.send(d.buf[:limit])
        del d.buf[:sent]
        if d is conn.up:
            self.up_bytes += sent
        else:
            self.down_bytes += sent
        if self.rate:
            d.ready_at = max(d.ready_at, now) + sent / self.rate
        if d is conn.down and conn.down_budget is not None:
            conn.down_budget -= sent
            if conn.down_budget <= 0:
                self.drop(conn, close_with_fin)
                return
        self.pass_on_eof(d)

    @staticmethod
    def pass_on_eof(d):
        # Half-close: the FIN goes on only after every byte before it did.
        if d.eof and not d.buf and not d.shut:
            d.shut = True
            try:
                d.dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def refresh(self, conn):
        """Puts each socket of conn in the selector for what it can do now, and nothing else."""
        if conn.connecting:
            wants = {conn.client: 0, conn.target: selectors.EVENT_WRITE}
        else:
            now = time.monotonic()
            wants = {conn.client: 0, conn.target: 0}
            for d in (conn.up, conn.down):
                if self.stalled:
                    continue  # neither read nor write: the kernel buffers fill, as on a dead link
                if not d.eof and len(d.buf) < BUFFER_CAP:
                    wants[d.src] |= selectors.EVENT_READ
                if d.buf and self.rate and d.ready_at > now:
                    self.waiting.add(conn)
                elif d.buf:
                    wants[d.dst] |= selectors.EVENT_WRITE
        for sock, events in wants.items():
            current = conn.registered.get(sock, 0)
            if events == current:
                continue
            if not events:
                self.selector.unregister(sock)
                del conn.registered[sock]
            elif current:
                self.selector.modify(sock, events, conn)
                conn.registered[sock] = events
            else:
                self.selector.register(sock, events, conn)
                conn.registered[sock] = events

    def drop(self, conn, closer):
        for sock in list(conn.registered):
            self.selector.unregister(sock)
        conn.registered.clear()
        self.connections.discard(conn)
        self.waiting.discard(conn)
        closer(conn.client)
        closer(conn.target)

    def close_all(self, closer):
        conns = list(self.connections)
        for conn in conns:
            self.drop(conn, closer)
        return len(conns)

    # ------------------------------------------------------------------ control port

    def accept_control(self):
        for _ in range(ACCEPTS_PER_EVENT):
            try:
                sock, _ = self.control.accept()
            except OSError:
                return
            sock.setblocking(False)
            self.controls[sock] = (bytearray(), bytearray())
            self.selector.register(sock, selectors.EVENT_READ, "ctl")

    def on_control(self, sock, events):
        inbuf, outbuf = self.controls[sock]
        closing = False
        try:
            if events & selectors.EVENT_READ:
                data = sock.recv(4096)
                if not data:
                    closing = True
                inbuf += data
                while b"\n" in inbuf:
                    line, _, rest = inbuf.partition(b"\n")
                    inbuf[:] = rest
                    outbuf += (self.command(line.decode("utf-8", "replace").strip()) + "\n").encode()
                if len(inbuf) > 1024:
                    outbuf += b"ERR line too long\n"
                    closing = True
            if outbuf:
                sent = sock.send(outbuf)
                del outbuf[:sent]
        except OSError:
            outbuf.clear()
            closing = True
        if closing and not outbuf:
            self.selector.unregister(sock)
            del self.controls[sock]
            sock.close()
        else:
            self.selector.modify(sock, selectors.EVENT_READ | (selectors.EVENT_WRITE if outbuf else 0), "ctl")
        if self.quitting:
            # quit: make sure its OK leaves before the process does (a blocking send is fine now).
            for other, (_, pending) in list(self.controls.items()):
                try:
                    other.settimeout(1.0)
                    other.sendall(pending)
                except OSError:
                    pass

    def command(self, line):
        """Runs one control command and returns its reply line."""
        words = line.split()
        if not words:
            return "ERR empty command"
        name, args = words[0].lower(), words[1:]
        if name in ("throttle", "cut-after"):
            if len(args) != 1 or not args[0].isdigit():
                unit = "bytes_per_second" if name == "throttle" else "bytes"
                return f"ERR {name} takes one non-negative integer: {name} <{unit}>"
            value = int(args[0])
        elif args:
            return f"ERR {name} takes no argument"
        if name == "cut":
            return f"OK cut {self.close_all(close_with_fin)}"
        if name == "reset":
            return f"OK reset {self.close_all(abort)}"
        if name in ("stall", "unstall"):
            self.stalled = name == "stall"
            for conn in self.connections:
                self.refresh(conn)
            return "OK stalled" if self.stalled else "OK unstalled"
        if name == "throttle":
            self.rate = value
            for conn in self.connections:
                conn.up.ready_at = conn.down.ready_at = 0.0
                self.refresh(conn)
            return f"OK throttle {value}"
        if name == "refuse":
            self.refusing = True
            return "OK refusing"
        if name == "accept":
            self.refusing = False
            return "OK accepting"
        if name == "cut-after":
            # Open connections get the budget from now on; new ones from their first byte.
            self.cut_after = value
            for conn in self.connections:
                conn.down_budget = value or None
            return f"OK cut-after {value}"
        if name == "stats":
            return (f"OK connections={len(self.connections)} accepted={self.accepted} "
                    f"up={self.up_bytes} down={self.down_bytes}")
        if name == "help":
            return f"OK {COMMANDS}"
        if name == "quit":
            self.quitting = True
            return "OK quit"
        return f"ERR unknown command {name!r}; commands: {COMMANDS}"


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="TCP fault proxy for loopback tests: forwards --listen to --target and breaks "
                    "connections on command from --control. Loopback addresses only.",
        epilog=f"Control commands, one per line: {COMMANDS}. See docs/TESTING.md.")
    parser.add_argument("--listen", required=True, metavar="HOST:PORT",
                        help="where clients connect (port 0: any free port)")
    parser.add_argument("--target", required=True, metavar="HOST:PORT", help="where connections are forwarded")
    parser.add_argument("--control", required=True, metavar="HOST:PORT",
                        help="where control commands are read (port 0: any free port)")
    parser.add_argument("--max-connections", type=int, default=1000, metavar="N",
                        help="open proxied connections at most; more are reset at once (default 1000)")
    parser.add_argument("--exit-on-stdin-eof", action="store_true",
                        help="exit when stdin closes, so a proxy started by a test dies with the test")
    args = parser.parse_args(argv)
    # A parent's thread may have SIGTERM blocked or ignored (Foundation's Process spawns from
    # dispatch threads), and a child inherits both: without this, kill would not stop us.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if args.exit_on_stdin_eof:
        # A parent that starts several proxies at once leaks each one's stdin pipe into the
        # others; holding another's write end would keep its lifeline from ever closing.
        os.closerange(3, 4096)
    listen = loopback_address(args.listen, "--listen")
    target = loopback_address(args.target, "--target")
    control = loopback_address(args.control, "--control")
    try:
        # Two descriptors per connection: raise the soft limit so hundreds fit.
        import resource
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ImportError, ValueError, OSError):
        pass
    try:
        proxy = Proxy(listen, target, control, args.max_connections)
    except OSError as error:
        raise SystemExit(f"faultproxy: cannot listen: {error}")
    try:
        proxy.serve(sys.stdin if args.exit_on_stdin_eof else None)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

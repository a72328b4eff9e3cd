public import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A `deploy/faultproxy.py` child process between a test and a server on loopback: it forwards
/// every connection made to ``port`` and breaks them on command (``cut()``, ``reset()``,
/// ``stall()``, ``throttle(bytesPerSecond:)``, ``refuse()``, ``cutAfter(bytes:)``).
///
/// Each command opens its own connection to the proxy's control port, sends one line and waits
/// for the one-line reply, so by the time a command returns the proxy has carried it out (a cut
/// connection is closed, a stall is in force). The proxy exits when ``stop()`` is called, when
/// this object is deinitialised, or when the test process dies (it watches its stdin).
public final class FaultProxy: Sendable {
    /// The loopback port on 127.0.0.1 that clients connect to instead of the target.
    public let port: Int
    /// The proxy's control port on 127.0.0.1.
    public let controlPort: Int
    /// The proxy's process, spawned with `posix_spawn` and reaped here (not Foundation's
    /// `Process`, whose exit monitoring hung other tests' `waitUntilExit()` when several
    /// proxies started and stopped at once).
    private let pid: pid_t
    /// Held open for the proxy's life: when it closes, the proxy exits (`--exit-on-stdin-eof`).
    private let lifeline: Int32
    private let log: URL
    private let stopped = Mutex(false)

    /// What the proxy has counted since it started (``stats()``).
    public struct Stats: Sendable, Equatable, CustomStringConvertible {
        /// Proxied connections open now.
        public let connections: Int
        /// Connections accepted in all, including those ``refuse()`` reset at once.
        public let accepted: Int
        /// Bytes forwarded from clients to the target, over all connections.
        public let up: Int
        /// Bytes forwarded from the target to clients, over all connections.
        public let down: Int

        /// Creates counts (for comparing with ``FaultProxy/stats()``).
        public init(connections: Int, accepted: Int, up: Int, down: Int) {
            self.connections = connections
            self.accepted = accepted
            self.up = up
            self.down = down
        }

        public var description: String { "connections=\(connections) accepted=\(accepted) up=\(up) down=\(down)" }
    }

    /// Why the proxy could not start or did not carry out a command.
    public enum Failure: Error, CustomStringConvertible {
        /// It did not print its `LISTEN` line within 10 s (it exited, or python3 is missing);
        /// `log` is its standard error.
        case didNotStart(log: String)
        /// It answered `ERR ...` to `command`.
        case refused(command: String, reply: String)
        /// No reply to `command` within 5 s, or no control port to send it to: the proxy died
        /// or was stopped. `log` is its standard error.
        case unreachable(command: String, log: String)

        public var description: String {
            switch self {
            case .didNotStart(let log): "faultproxy.py did not start listening; its stderr:\n\(log)"
            case .refused(let command, let reply): "faultproxy.py refused '\(command)': \(reply)"
            case .unreachable(let command, let log):
                "faultproxy.py did not answer '\(command)' (dead or stopped); its stderr:\n\(log)"
            }
        }
    }

    /// The script, found from this file's place in the repository.
    public static var script: URL {
        TestDatabase.packageRoot.appendingPathComponent("deploy").appendingPathComponent("faultproxy.py")
    }

    /// Starts a proxy on 127.0.0.1 (free ports) that forwards to `host`:`port` and waits until it
    /// listens. No connection is made to the target until a client connects.
    ///
    /// - Parameters:
    ///   - host: The target's address: a literal loopback address (`127.0.0.1`, `::1`); the proxy
    ///     refuses any other.
    ///   - port: The target's TCP port.
    /// - Throws: ``Failure/didNotStart(log:)`` when it does not listen within 10 s (a
    ///   non-loopback `host` among the causes); an error from `Process.run()` when python3
    ///   cannot be started.
    public static func start(target host: String, port: Int) async throws -> FaultProxy {
        // A python3 that dies at start on an overloaded machine is tried again, twice.
        for _ in 0..<2 {
            if let proxy = try? await Self.startOnce(target: host, port: port) { return proxy }
        }
        return try await Self.startOnce(target: host, port: port)
    }

    private static func startOnce(target host: String, port: Int) async throws -> FaultProxy {
        let target = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        let arguments = [
            "python3", Self.script.path, "--listen", "127.0.0.1:0", "--target", target,
            "--control", "127.0.0.1:0", "--exit-on-stdin-eof",
        ]
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("faultproxy-\(UUID()).log")
        var input: [Int32] = [0, 0]
        var output: [Int32] = [0, 0]
        // Socket pairs made close-on-exec atomically: no other child spawned meanwhile by a
        // parallel test inherits them (only the copies dup2'd to 0 and 1 survive the spawn).
        let kind = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        guard socketpair(AF_UNIX, kind, 0, &input) == 0, socketpair(AF_UNIX, kind, 0, &output) == 0 else {
            throw POSIXError(.EMFILE)
        }
        let errors = open(log.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        // stdin is the lifeline (the proxy exits at its end), stdout carries the LISTEN line.
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input[0], 0)
        posix_spawn_file_actions_adddup2(&actions, output[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errors, 2)
        var pid: pid_t = 0
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let spawned = posix_spawnp(&pid, "python3", &actions, nil, argv, environ)
        close(input[0])
        close(output[1])
        close(errors)
        guard spawned == 0 else {
            close(input[1])
            close(output[0])
            throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .ENOENT)
        }
        let line = try await Self.firstLine(of: output[0], within: .seconds(30))
        close(output[0])
        guard let line, let ports = Self.ports(in: line) else {
            kill(pid, SIGKILL)
            waitpid(pid, nil, 0)
            close(input[1])
            let text = Self.contents(of: log)
            try? FileManager.default.removeItem(at: log)
            throw Failure.didNotStart(log: text)
        }
        return FaultProxy(pid: pid, lifeline: input[1], log: log, port: ports.listen, control: ports.control)
    }

    private init(pid: pid_t, lifeline: Int32, log: URL, port: Int, control: Int) {
        self.pid = pid
        self.lifeline = lifeline
        self.log = log
        self.port = port
        self.controlPort = control
    }

    deinit { self.stop() }

    /// Closes every open proxied connection, both sides, with a normal FIN: the client reads EOF.
    /// New connections are proxied as before.
    ///
    /// - Throws: ``Failure``.
    public func cut() throws { _ = try self.send("cut") }

    /// Aborts every open proxied connection, both sides, with a RST: the client's next read or
    /// write fails with `ECONNRESET`. New connections are proxied as before.
    ///
    /// - Throws: ``Failure``.
    public func reset() throws { _ = try self.send("reset") }

    /// Stops forwarding in both directions on every connection, open and new, while keeping the
    /// sockets open: bytes pile up in buffers and nothing is delivered, nor any FIN or RST, as on a
    /// link that silently stopped. ``unstall()`` delivers what piled up.
    ///
    /// - Throws: ``Failure``.
    public func stall() throws { _ = try self.send("stall") }

    /// Resumes forwarding after ``stall()``, starting with the bytes that piled up.
    ///
    /// - Throws: ``Failure``.
    public func unstall() throws { _ = try self.send("unstall") }

    /// Limits every connection, open and new, to `bytesPerSecond` in each direction, sent in
    /// chunks of about a twentieth of a second's worth (at most 4096 bytes).
    ///
    /// - Parameter bytesPerSecond: Bytes per second per direction per connection; 0 removes the limit.
    /// - Throws: ``Failure/refused(command:reply:)`` for a negative rate; ``Failure``.
    public func throttle(bytesPerSecond: Int) throws { _ = try self.send("throttle \(bytesPerSecond)") }

    /// Makes new connections fail: each is accepted and reset at once, like an unreachable
    /// office. Open connections are left alone. ``accept()`` undoes it.
    ///
    /// - Throws: ``Failure``.
    public func refuse() throws { _ = try self.send("refuse") }

    /// Proxies new connections again after ``refuse()``.
    ///
    /// - Throws: ``Failure``.
    public func accept() throws { _ = try self.send("accept") }

    /// Cuts each connection (FIN, as ``cut()``) once `bytes` bytes went downstream, from the target
    /// to the client: a cut mid-stream at a chosen point. Open connections count from now, new
    /// ones from their first byte; each is cut once, and the setting holds until changed.
    ///
    /// - Parameter bytes: Bytes forwarded downstream before the cut; 0 turns it off.
    /// - Throws: ``Failure/refused(command:reply:)`` for a negative count; ``Failure``.
    public func cutAfter(bytes: Int) throws { _ = try self.send("cut-after \(bytes)") }

    /// The proxy's counts now.
    ///
    /// - Throws: ``Failure``, also when the reply cannot be parsed.
    public func stats() throws -> Stats {
        let reply = try self.send("stats")
        var fields: [String: Int] = [:]
        for word in reply.split(separator: " ").dropFirst() {
            let pair = word.split(separator: "=", maxSplits: 1)
            if pair.count == 2, let value = Int(pair[1]) { fields[String(pair[0])] = value }
        }
        guard let connections = fields["connections"], let accepted = fields["accepted"], let up = fields["up"],
            let down = fields["down"]
        else { throw Failure.refused(command: "stats", reply: reply) }
        return Stats(connections: connections, accepted: accepted, up: up, down: down)
    }

    /// Stops the proxy and waits (at most about 2 s) until its control port is closed; its
    /// connections close with it. Closes its stdin (which it exits on) and sends SIGTERM, then
    /// SIGKILL if it still answers after 2 s. Safe to call more than once; later commands throw
    /// ``Failure/unreachable(command:log:)``.
    ///
    /// It does not call `Process.waitUntilExit()`: with several proxies stopping at once on
    /// Linux, Foundation sometimes never noticed an exit and that call blocked for good.
    public func stop() {
        guard
            !self.stopped.withLock({
                let was = $0
                $0 = true
                return was
            })
        else { return }
        close(self.lifeline)
        let pid = self.pid
        kill(pid, SIGTERM)
        if !self.waitUntilControlCloses() {
            kill(pid, SIGKILL)
            _ = self.waitUntilControlCloses()
        }
        // Reap it (it is ours alone: no other code waits for this pid).
        for _ in 0..<200 where waitpid(pid, nil, WNOHANG) == 0 { usleep(10_000) }
        try? FileManager.default.removeItem(at: self.log)
    }

    /// Polls the control port every 10 ms for up to 2 s; true once nothing listens there.
    private func waitUntilControlCloses() -> Bool {
        for _ in 0..<200 {
            guard let fd = try? Loopback.connect(port: self.controlPort) else { return true }
            close(fd)
            usleep(10_000)
        }
        return false
    }

    // MARK: - Control connection

    /// Sends one command line and returns the `OK ...` reply.
    private func send(_ command: String) throws -> String {
        guard let reply = Self.exchange(command, port: self.controlPort) else {
            throw Failure.unreachable(command: command, log: Self.contents(of: self.log))
        }
        guard reply.hasPrefix("OK") else { throw Failure.refused(command: command, reply: reply) }
        return reply
    }

    /// One line out, one line back, over a fresh blocking socket with 5 s timeouts; nil when the
    /// proxy cannot be reached or does not answer.
    private static func exchange(_ command: String, port: Int) -> String? {
        guard let fd = try? Loopback.connect(port: port) else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let bytes = Array((command + "\n").utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { return nil }
            sent += n
        }
        var reply: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 512)
        while !reply.contains(10) && reply.count < 4096 {
            let n = read(fd, &chunk, chunk.count)
            guard n > 0 else { return nil }
            reply += chunk[0..<n]
        }
        guard let lf = reply.firstIndex(of: 10) else { return nil }
        return String(decoding: reply[..<lf], as: UTF8.self)
    }

    // MARK: - Start-up

    /// Reads the first line from a pipe without blocking a cooperative thread: polls, then sleeps.
    ///
    /// - Returns: The line, or nil at EOF (the proxy exited) or after `limit`.
    private static func firstLine(of fd: Int32, within limit: Duration) async throws -> String? {
        let deadline = ContinuousClock.now + limit
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 256)
        while ContinuousClock.now < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&poller, 1, 0) > 0 {
                let n = read(fd, &chunk, chunk.count)
                guard n > 0 else { return nil }
                bytes += chunk[0..<n]
                if let lf = bytes.firstIndex(of: 10) { return String(decoding: bytes[..<lf], as: UTF8.self) }
            } else {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        return nil
    }

    /// The two ports in `LISTEN 127.0.0.1:41234 CONTROL 127.0.0.1:41235`.
    private static func ports(in line: String) -> (listen: Int, control: Int)? {
        let words = line.split(separator: " ")
        guard words.count == 4, words[0] == "LISTEN", words[2] == "CONTROL",
            let listen = words[1].split(separator: ":").last.flatMap({ Int($0) }),
            let control = words[3].split(separator: ":").last.flatMap({ Int($0) })
        else { return nil }
        return (listen, control)
    }

    private static func contents(of log: URL) -> String {
        String(decoding: (try? Data(contentsOf: log)) ?? Data(), as: UTF8.self)
    }
}

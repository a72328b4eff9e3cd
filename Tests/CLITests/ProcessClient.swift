import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A blocking client of protocol v1 over a raw TCP socket, for tests of `liaisond` as a process.
///
/// The client library hides what crash and memory tests must control: the socket's receive
/// buffer, not reading at all, pipelining thousands of `PUB`s without waiting, and seeing the
/// connection die mid-stream. Every call blocks, so run it on a thread of its own
/// (``onThread(_:)``), never on the cooperative pool: on 2 cores one blocked pool thread stalls
/// half of all tasks.
///
/// One thread may send while another reads (each direction of a socket is independent; that is
/// how ``publish(count:window:idleTimeout:_:)`` pipelines). Two threads reading, or two sending,
/// at once are not supported: that is what makes the `@unchecked Sendable` safe.
final class ProcessClient: @unchecked Sendable {
    /// One frame from the server.
    enum Frame: Sendable, Equatable {
        /// A reply, greeting or server `PING` (without its line ending).
        case line(String)
        /// A `MSG` frame with its payload.
        case message(Delivery)
    }

    /// A `MSG` frame: `MSG <sid> <seq> <topic> <account> <published> <size> [k=v …]`.
    struct Delivery: Sendable, Equatable {
        var sid: String
        var seq: Int64
        var topic: String
        var account: String
        var headers: [String: String]
        var payload: [UInt8]
    }

    /// A `PUB` to send.
    struct Outgoing: Sendable, Equatable {
        var topic: String
        var payload: [UInt8]
        /// `key=value` headers, in this order (e.g. `["id": …]` as `[("id", …)]`).
        var headers: [Header] = []

        /// One `key=value` pair.
        struct Header: Sendable, Equatable {
            var key: String
            var value: String
        }

        /// The bytes on the wire: `PUB <topic> <size> [k=v …]`, LF, the payload, LF.
        var frame: [UInt8] {
            var line = "PUB \(self.topic) \(self.payload.count)"
            for header in self.headers { line += " \(header.key)=\(header.value)" }
            return Array(line.utf8) + [10] + self.payload + [10]
        }
    }

    /// A reply to a `PUB`.
    enum Reply: Sendable, Equatable {
        /// `OK PUB <seq>` or `OK PUB <seq> DUP`.
        case published(seq: Int64, duplicate: Bool)
        /// `ERR <code> <text>`.
        case error(code: Int, text: String)
        /// Any other line, which a `PUB` must never get.
        case unexpected(String)

        init(line: String) {
            let parts = line.split(separator: " ", maxSplits: 3).map(String.init)
            if parts.count >= 3, parts[0] == "OK", parts[1] == "PUB", let seq = Int64(parts[2]) {
                self = .published(seq: seq, duplicate: parts.count == 4 && parts[3] == "DUP")
            } else if parts.count >= 2, parts[0] == "ERR", let code = Int(parts[1]) {
                self = .error(code: code, text: parts.dropFirst(2).joined(separator: " "))
            } else {
                self = .unexpected(line)
            }
        }
    }

    /// What one ``publish(count:window:idleTimeout:_:)`` run got.
    struct PublishRun: Sendable {
        /// The replies, in order: `replies[i]` answers PUB number `i`.
        var replies: [Reply]
        /// How many PUBs were handed to the socket (wholly or partly); those past `replies.count`
        /// got no reply.
        var sent: Int
        /// Why the run ended: every PUB answered, the connection closed, or the server fell silent.
        var ending: Ending

        /// Why a run ended.
        enum Ending: Sendable, Equatable {
            case complete
            case closed
            case silent
        }
    }

    /// The socket failed or the server broke the protocol.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The greeting line (`LIAISON 1 node=… max_payload=…`).
    private(set) var greeting = ""
    private let fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    private var chunk = [UInt8](repeating: 0, count: 256 * 1024)

    /// Connects to 127.0.0.1:`port` and reads the greeting.
    ///
    /// - Parameters:
    ///   - port: The daemon's port.
    ///   - receiveBuffer: `SO_RCVBUF` in bytes (set before connecting so the TCP window follows);
    ///     a small one makes a reader that pauses push back on the daemon at once.
    /// - Throws: ``Failure`` when the connection or the greeting fails within 10 s.
    init(port: Int, receiveBuffer: Int32? = nil) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket(): errno \(errno)") }
        if var size = receiveBuffer {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let code = errno
            Glibc.close(fd)
            throw Failure(description: "connect to 127.0.0.1:\(port): errno \(code)")
        }
        self.fd = fd
        guard case .line(let greeting)? = try self.nextFrame(timeout: .seconds(10)) else {
            Glibc.close(fd)
            throw Failure(description: "no greeting from 127.0.0.1:\(port)")
        }
        self.greeting = greeting
    }

    deinit {
        Glibc.close(self.fd)
    }

    /// Runs blocking work on a new thread and awaits its result, keeping the cooperative pool free.
    ///
    /// - Parameter body: The work; it may block on sockets for as long as it likes.
    /// - Returns: What `body` returned.
    /// - Throws: What `body` threw.
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    /// Sends bytes, all of them.
    ///
    /// - Throws: ``Failure`` when the connection is gone (`EPIPE`, `ECONNRESET`; no `SIGPIPE` is raised).
    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes {
                Glibc.send(self.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw Failure(description: "send: errno \(errno)") }
            offset += n
        }
    }

    /// Sends one control line (LF is added).
    ///
    /// - Throws: ``Failure`` when the connection is gone.
    func send(line: String) throws {
        try self.send(Array(line.utf8) + [10])
    }

    /// Sends a command and returns the next line the server sends (its reply, since replies come in
    /// order). `MSG` frames read meanwhile are skipped: use it where no subscription delivers.
    ///
    /// - Throws: ``Failure`` when the connection closes first or nothing comes within `timeout`.
    func command(_ line: String, timeout: Duration = .seconds(10)) throws -> String {
        try self.send(line: line)
        while true {
            switch try self.nextFrame(timeout: timeout) {
            case .line(let reply)?: return reply
            case .message?: continue
            case nil: throw Failure(description: "connection closed before the reply to \(line)")
            }
        }
    }

    /// Authenticates the connection.
    ///
    /// - Throws: ``Failure`` unless the server answers `OK AUTH <account>`.
    func authenticate(account: String, token: String) throws {
        let reply = try self.command("AUTH \(account) \(token)")
        guard reply == "OK AUTH \(account)" else { throw Failure(description: "AUTH \(account) got: \(reply)") }
    }

    /// Reads the next frame.
    ///
    /// - Parameter timeout: How long to wait for a whole frame.
    /// - Returns: The frame, or nil when the server closed or reset the connection.
    /// - Throws: ``Failure`` when no whole frame arrives within `timeout`, or a `MSG` line is malformed.
    func nextFrame(timeout: Duration) throws -> Frame? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let frame = try self.parseFrame() { return frame }
            guard try self.fill(until: deadline) else { return nil }
        }
    }

    /// Reads and throws away everything until the server closes the connection.
    ///
    /// - Returns: Whether it closed (EOF or reset) within `timeout`.
    func readUntilClosed(timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            self.buffer.removeAll(keepingCapacity: true)
            self.start = 0
            do {
                guard try self.fill(until: deadline) else { return true }
            } catch {
                return false
            }
        }
    }

    /// Pipelines `count` PUBs, at most `window` unanswered at a time, from a second thread, and
    /// collects the replies on this one until all are answered or the connection ends.
    ///
    /// - Parameters:
    ///   - count: How many PUBs to send.
    ///   - window: The most PUBs in flight; it bounds what the daemon holds for this connection.
    ///   - idleTimeout: How long the server may stay silent before the run ends as ``PublishRun/Ending/silent``.
    ///   - make: PUB number `i` (called once per PUB, on the sending thread).
    /// - Returns: The replies in order and how many PUBs went out.
    func publish(
        count: Int,
        window: Int,
        idleTimeout: Duration = .seconds(30),
        _ make: @escaping @Sendable (Int) -> Outgoing
    ) -> PublishRun {
        let gate = PublishGate()
        Thread {
            var next = 0
            while next < count {
                gate.lock.lock()
                while !gate.over && next - gate.answered >= window { gate.lock.wait() }
                let room = gate.over ? 0 : min(window - (next - gate.answered), 64, count - next)
                if room > 0 { gate.sent = next + room }
                gate.lock.unlock()
                if room == 0 { break }
                var bytes: [UInt8] = []
                for index in next..<next + room { bytes += make(index).frame }
                next += room
                do {
                    try self.send(bytes)
                } catch {
                    break
                }
            }
            gate.lock.lock()
            gate.writerDone = true
            gate.lock.broadcast()
            gate.lock.unlock()
        }.start()

        var replies: [Reply] = []
        var ending = PublishRun.Ending.complete
        while replies.count < count {
            let frame: Frame?
            do {
                frame = try self.nextFrame(timeout: idleTimeout)
            } catch {
                ending = .silent
                break
            }
            guard let frame else {
                ending = .closed
                break
            }
            // A server PING is not a reply; publishers are never silent long enough to get one.
            guard case .line(let line) = frame, line != "PING" else { continue }
            replies.append(Reply(line: line))
            gate.lock.lock()
            gate.answered = replies.count
            gate.lock.signal()
            gate.lock.unlock()
        }
        gate.lock.lock()
        gate.over = true
        gate.lock.broadcast()
        while !gate.writerDone { gate.lock.wait() }
        let sent = gate.sent
        gate.lock.unlock()
        return PublishRun(replies: replies, sent: sent, ending: ending)
    }

    /// Closes the sending side (the server sees EOF) but keeps reading possible.
    func shutdownSending() {
        shutdown(self.fd, Int32(SHUT_WR))
    }

    /// The state the two threads of a pipelined publish share, all of it under `lock`
    /// (which is what makes the `@unchecked Sendable` safe).
    private final class PublishGate: @unchecked Sendable {
        let lock = NSCondition()
        var sent = 0
        var answered = 0
        var over = false
        var writerDone = false
    }

    // MARK: - Reading

    /// Appends what the socket has to `buffer`.
    ///
    /// - Returns: false on EOF or connection reset.
    private func fill(until deadline: ContinuousClock.Instant) throws -> Bool {
        if self.start > 0 && (self.start == self.buffer.count || self.start > 1 << 20) {
            self.buffer.removeFirst(self.start)
            self.start = 0
        }
        while true {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { throw Failure(description: "no whole frame within the timeout") }
            var poller = pollfd(fd: self.fd, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(
                clamping: left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1
            )
            let ready = poll(&poller, 1, milliseconds)
            if ready < 0 && errno != EINTR { throw Failure(description: "poll: errno \(errno)") }
            guard ready > 0 else { continue }
            let n = self.chunk.withUnsafeMutableBytes { recv(self.fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                self.buffer.append(contentsOf: self.chunk[0..<n])
                return true
            }
            if n == 0 { return false }
            switch errno {
            case EINTR, EAGAIN: continue
            case ECONNRESET, EPIPE: return false
            default: throw Failure(description: "recv: errno \(errno)")
            }
        }
    }

    /// Takes one whole frame off the front of `buffer`, or nil when it holds only part of one.
    private func parseFrame() throws -> Frame? {
        guard let lf = self.buffer[self.start...].firstIndex(of: 10) else { return nil }
        let lineEnd = lf > self.start && self.buffer[lf - 1] == 13 ? lf - 1 : lf
        let line = String(decoding: self.buffer[self.start..<lineEnd], as: UTF8.self)
        guard line.hasPrefix("MSG ") else {
            self.start = lf + 1
            return .line(line)
        }
        let parts = line.split(separator: " ").map(String.init)
        guard parts.count >= 7, let seq = Int64(parts[2]), let size = Int(parts[6]), size >= 0 else {
            throw Failure(description: "malformed MSG line: \(line)")
        }
        let payloadStart = lf + 1
        guard self.buffer.count > payloadStart + size else { return nil }
        var headers: [String: String] = [:]
        for pair in parts.dropFirst(7) {
            guard let equals = pair.firstIndex(of: "=") else { continue }
            headers[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
        let delivery = Delivery(
            sid: parts[1],
            seq: seq,
            topic: parts[3],
            account: parts[4],
            headers: headers,
            payload: Array(self.buffer[payloadStart..<payloadStart + size])
        )
        guard self.buffer[payloadStart + size] == 10 else {
            throw Failure(description: "MSG \(seq): payload of \(size) bytes not followed by LF")
        }
        self.start = payloadStart + size + 1
        return .message(delivery)
    }
}

import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `deploy/faultproxy.py`, through ``FaultProxy``, against an echo server: each fault does what it
/// says, so tests that drive the daemon through the proxy can trust what they break.
///
/// Timed checks assert lower bounds only (a stall delays, a throttle slows): upper bounds are
/// flaky on a shared machine.
@Suite(.serialized) struct FaultProxyTests {
    @Test func bytesPassThroughBothWays() async throws {
        try await withProxy { proxy in
            let peer = try Peer(port: proxy.port)
            let payload = randomBytes(200_000)
            let echoed = await peer.exchange(send: payload, receive: payload.count, within: .seconds(30))
            #expect(echoed.end == .complete)
            #expect(echoed.bytes == payload)
        }
    }

    @Test func cutMakesTheClientReadEOF() async throws {
        try await withProxy { proxy in
            let peer = try Peer(port: proxy.port)
            #expect(await peer.exchange(send: Array("hello\n".utf8), receive: 6).end == .complete)
            try proxy.cut()
            let after = await peer.exchange(send: [], receive: .max)
            #expect(after.end == .eof)
            #expect(after.bytes.isEmpty)
        }
    }

    @Test func resetMakesTheClientSeeConnectionResetNotEOF() async throws {
        try await withProxy { proxy in
            let peer = try Peer(port: proxy.port)
            #expect(await peer.exchange(send: Array("hello\n".utf8), receive: 6).end == .complete)
            try proxy.reset()
            #expect(await peer.exchange(send: [], receive: .max).end == .reset)
        }
    }

    @Test func stallHoldsBytesBackAndUnstallDeliversThem() async throws {
        try await withProxy { proxy in
            let peer = try Peer(port: proxy.port)
            #expect(await peer.exchange(send: Array("warm\n".utf8), receive: 5).end == .complete)
            try proxy.stall()
            let held = await peer.exchange(send: Array("ping\n".utf8), receive: 5, within: .milliseconds(500))
            #expect(held.end == .timedOut)
            #expect(held.bytes.isEmpty)
            try proxy.unstall()
            let delivered = await peer.exchange(send: [], receive: 5)
            #expect(delivered.end == .complete)
            #expect(delivered.bytes == Array("ping\n".utf8))
        }
    }

    @Test func throttleSlowsEachDirectionToItsRate() async throws {
        try await withProxy { proxy in
            try proxy.throttle(bytesPerSecond: 20_000)
            let peer = try Peer(port: proxy.port)
            let payload = randomBytes(100_000)
            let started = ContinuousClock.now
            let echoed = await peer.exchange(send: payload, receive: payload.count, within: .seconds(60))
            let elapsed = ContinuousClock.now - started
            #expect(echoed.end == .complete)
            #expect(echoed.bytes == payload)
            // 100 KB at 20 KB/s is 5 s; a generous lower bound only.
            #expect(elapsed >= .seconds(3), "100 KB at 20000 B/s took only \(elapsed)")
        }
    }

    @Test func refuseFailsNewConnectionsAtOnceAndAcceptRestoresThem() async throws {
        try await withProxy { proxy in
            try proxy.refuse()
            // The handshake may complete before the proxy resets: a failed connect and a
            // connection that ends at once with no byte are both a refusal.
            if let peer = try? Peer(port: proxy.port) {
                let refused = await peer.exchange(send: Array("hello\n".utf8), receive: .max)
                #expect(refused.end == .reset || refused.end == .eof)
                #expect(refused.bytes.isEmpty)
            }
            try proxy.accept()
            let peer = try Peer(port: proxy.port)
            #expect(await peer.exchange(send: Array("again\n".utf8), receive: 6).end == .complete)
            #expect(try proxy.stats().accepted == 2)
        }
    }

    @Test func cutAfterDeliversAtMostThatManyBytesDownstreamThenEOF() async throws {
        try await withProxy { proxy in
            try proxy.cutAfter(bytes: 1000)
            let peer = try Peer(port: proxy.port)
            let payload = randomBytes(5000)
            let cut = await peer.exchange(send: payload, receive: .max)
            #expect(cut.end == .eof)
            #expect(!cut.bytes.isEmpty && cut.bytes.count <= 1000, "got \(cut.bytes.count) bytes")
            #expect(cut.bytes[...] == payload.prefix(cut.bytes.count))
            // Off again: a new connection carries everything.
            try proxy.cutAfter(bytes: 0)
            let whole = try Peer(port: proxy.port)
            #expect(await whole.exchange(send: payload, receive: payload.count).bytes == payload)
        }
    }

    @Test func statsCountConnectionsAndBytes() async throws {
        try await withProxy { proxy in
            #expect(try proxy.stats() == FaultProxy.Stats(connections: 0, accepted: 0, up: 0, down: 0))
            let first = try Peer(port: proxy.port)
            let second = try Peer(port: proxy.port)
            for peer in [first, second] {
                #expect(await peer.exchange(send: randomBytes(1000), receive: 1000).end == .complete)
            }
            #expect(try proxy.stats() == FaultProxy.Stats(connections: 2, accepted: 2, up: 2000, down: 2000))
            first.close()
            var stats = try proxy.stats()
            for _ in 0..<100 where stats.connections != 1 {
                try await Task.sleep(for: .milliseconds(50))
                stats = try proxy.stats()
            }
            #expect(stats == FaultProxy.Stats(connections: 1, accepted: 2, up: 2000, down: 2000))
        }
    }

    @Test func hundredsOfConnectionsAtOnce() async throws {
        try await withProxy { proxy in
            let peers = try (0..<200).map { _ in try Peer(port: proxy.port) }
            for (i, peer) in peers.enumerated() {
                let line = Array("peer \(i)\n".utf8)
                #expect(await peer.exchange(send: line, receive: line.count).bytes == line)
            }
            #expect(try proxy.stats().connections == 200)
            try proxy.reset()
            #expect(try proxy.stats().connections == 0)
        }
    }

    @Test func errorsAreThrown() async throws {
        try await withProxy { proxy in
            #expect(throws: FaultProxy.Failure.self) { try proxy.throttle(bytesPerSecond: -1) }
            #expect(throws: FaultProxy.Failure.self) { try proxy.cutAfter(bytes: -5) }
            proxy.stop()
            #expect(throws: FaultProxy.Failure.self) { try proxy.stats() }
        }
        // A non-loopback target is refused before any socket is opened (TEST-NET-1: nobody is there).
        await #expect(throws: FaultProxy.Failure.self) {
            _ = try await FaultProxy.start(target: "192.0.2.1", port: 7420)
        }
    }
}

// MARK: - Helpers

/// Starts an echo server and a proxy in front of it, runs `body`, then stops both.
private func withProxy(_ body: (FaultProxy) async throws -> Void) async throws {
    let echo = try EchoServer.start()
    defer { echo.stop() }
    let proxy = try await FaultProxy.start(target: "127.0.0.1", port: echo.port)
    defer { proxy.stop() }
    try await body(proxy)
}

private func randomBytes(_ count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
}

/// A server on 127.0.0.1 that writes back whatever it reads: blocking sockets, a thread per
/// connection (a few hundred at most here).
private final class EchoServer: Sendable {
    let port: Int
    private let fd: Int32

    static func start() throws -> EchoServer {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 512) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard fd >= 0, bound else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        let server = EchoServer(fd: fd, port: Int(UInt16(bigEndian: address.sin_port)))
        Thread.detachNewThread {
            while case let client = accept(fd, nil, nil), client >= 0 {
                Thread.detachNewThread { Self.echo(client) }
            }
        }
        return server
    }

    private init(fd: Int32, port: Int) {
        self.fd = fd
        self.port = port
    }

    /// Ends the accept loop (shutdown wakes a blocked accept); open connections end with the proxy's.
    func stop() {
        shutdown(self.fd, Int32(SHUT_RDWR))
        close(self.fd)
    }

    private static func echo(_ fd: Int32) {
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 65536)
        while case let n = read(fd, &buffer, buffer.count), n > 0 {
            var sent = 0
            while sent < n {
                let m = buffer[sent..<n].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard m > 0 else { return }
                sent += m
            }
        }
    }
}

/// A non-blocking client socket that tells EOF from a reset, which the client library hides.
private final class Peer {
    private var fd: Int32

    /// How an ``exchange(send:receive:within:)`` ended.
    enum End: Equatable {
        /// The requested number of bytes arrived.
        case complete
        /// The peer closed with a FIN.
        case eof
        /// The peer reset the connection (`ECONNRESET`).
        case reset
        /// Neither within the time allowed.
        case timedOut
        /// Any other socket error (errno).
        case failed(Int32)
    }

    /// Connects (blocking: on loopback it succeeds or fails at once), then turns non-blocking.
    ///
    /// - Throws: `POSIXError` with the connect's errno.
    init(port: Int) throws {
        let fd = try Loopback.connect(port: port)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        self.fd = fd
    }

    deinit { self.close() }

    func close() {
        if self.fd >= 0 { Glibc.close(self.fd) }
        self.fd = -1
    }

    /// Sends `out` while reading, until `wanted` bytes arrived, the connection ended, or `limit`
    /// passed (sending and reading together, so a large echo cannot deadlock on full buffers).
    ///
    /// - Parameter wanted: Bytes to wait for; `.max` reads until the connection ends.
    /// - Returns: What arrived, and why it stopped.
    func exchange(
        send out: [UInt8],
        receive wanted: Int,
        within limit: Duration = .seconds(30)
    ) async -> (bytes: [UInt8], end: End) {
        let deadline = ContinuousClock.now + limit
        var sent = 0
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while ContinuousClock.now < deadline {
            var progressed = false
            if sent < out.count {
                // MSG_NOSIGNAL: a write to a reset socket must fail, not kill the test process.
                let n = out[sent...].withUnsafeBytes {
                    Glibc.send(self.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
                }
                if n > 0 {
                    sent += n
                    progressed = true
                } else if let end = Self.end(after: n) {
                    return (received, end)
                }
            }
            let n = read(self.fd, &buffer, buffer.count)
            if n > 0 {
                received += buffer[0..<n]
                if received.count >= wanted { return (received, .complete) }
                progressed = true
            } else if let end = Self.end(after: n) {
                return (received, end)
            }
            if !progressed { try? await Task.sleep(for: .milliseconds(5)) }
        }
        return (received, .timedOut)
    }

    /// What a read or send result of 0 or less means; nil for "nothing yet".
    private static func end(after result: Int) -> End? {
        if result == 0 { return .eof }
        switch errno {
        case EAGAIN, EWOULDBLOCK, EINTR: return nil
        case ECONNRESET, EPIPE: return .reset
        case let code: return .failed(code)
        }
    }
}

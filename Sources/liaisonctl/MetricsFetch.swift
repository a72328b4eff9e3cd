import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// One HTTP `GET` to a daemon's metrics endpoint (docs/OPERATIONS.md, "Metrics"): HTTP/1.0,
/// read to the end of the connection (the endpoint closes after every answer).
enum MetricsFetch {
    /// An answer: the status code and the body as text.
    struct Answer: Sendable {
        var status: Int
        var body: String
    }

    /// Fetches `path` from `HOST:PORT` within `timeout`.
    ///
    /// - Throws: ``CLIFailure`` naming the address when it cannot connect, the answer does not
    ///   come in time, or it is not HTTP.
    static func get(_ address: String, path: String, timeout: TimeAmount = .seconds(5)) async throws -> Answer {
        let (host, port) = try Self.split(address)
        let collector = ResponseCollector()
        let bytes: [UInt8]
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(timeout)
                .channelInitializer { channel in channel.pipeline.addHandler(collector) }
                .connect(host: host, port: port).get()
            let scheduled = channel.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
            var request = channel.allocator.buffer(capacity: 64)
            request.writeString("GET \(path) HTTP/1.0\r\nHost: \(address)\r\n\r\n")
            try await channel.writeAndFlush(request).get()
            bytes = try await collector.done.futureResult.get()
            scheduled.cancel()
        } catch {
            collector.done.fail(error)
            throw CLIFailure("cannot read http://\(address)\(path): \(Self.reason(error))")
        }
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.hasPrefix("HTTP/"), let statusField = text.split(separator: " ", maxSplits: 2).dropFirst().first,
            let status = Int(statusField)
        else {
            throw CLIFailure("http://\(address)\(path) did not answer HTTP (got \(bytes.count) bytes)")
        }
        let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
        return Answer(status: status, body: body)
    }

    /// A short reason for a failed connection or read (`connection refused`), in place of
    /// SwiftNIO's error dumps.
    private static func reason(_ error: any Error) -> String {
        if let error = error as? NIOConnectionError {
            guard let first = error.connectionErrors.first?.error else { return "cannot resolve host '\(error.host)'" }
            return Self.reason(first)
        }
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)).lowercased() }
        if error is ChannelError { return "no answer in time" }
        return "\(error)"
    }

    /// `HOST:PORT` (IPv6 as `[::1]:9464`), or a `http://HOST:PORT[/…]` URL.
    ///
    /// - Throws: ``CLIFailure`` for anything else: no port or one outside 1...65535, an IPv6
    ///   host without both brackets (`http://[::1`), a user part or query in the host.
    static func split(_ text: String) throws -> (String, Int) {
        var rest = Substring(text)
        if rest.hasPrefix("http://") { rest = rest.dropFirst("http://".count) }
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]),
            (1...65535).contains(port), colon > rest.startIndex
        else {
            throw CLIFailure("'\(text)' is not http://HOST:PORT")
        }
        var host = rest[..<colon]
        if host.hasPrefix("["), host.hasSuffix("]"), host.count > 2 {
            host = host.dropFirst().dropLast()
        } else if host.contains(where: { ":[]".contains($0) }) {
            // `[::1` or `::1:9464`: an IPv6 host needs both brackets, or the port is ambiguous.
            throw CLIFailure("'\(text)' is not http://HOST:PORT (an IPv6 host goes in brackets: http://[::1]:9464)")
        }
        guard !host.contains(where: { $0 == "@" || $0 == "?" || $0 == "#" || $0.isWhitespace }) else {
            throw CLIFailure("'\(text)' is not http://HOST:PORT")
        }
        return (String(host), port)
    }
}

/// Collects everything the endpoint sends until it closes.
private final class ResponseCollector: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    let done: EventLoopPromise<[UInt8]>
    private let bytes = Mutex<[UInt8]>([])

    init() {
        self.done = MultiThreadedEventLoopGroup.singleton.next().makePromise()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = self.unwrapInboundIn(data)
        self.bytes.withLock { $0.append(contentsOf: buffer.readableBytesView) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.done.succeed(self.bytes.withLock { $0 })
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.done.fail(error)
        context.close(promise: nil)
    }
}

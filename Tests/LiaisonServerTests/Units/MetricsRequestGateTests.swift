import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import LiaisonServer

/// The metrics endpoint never lets a client hold a connection: a malformed request gets `400` and
/// a close, and a request still incomplete at the deadline (a slowloris) is closed
/// (``MetricsRequestGate``; the pipeline is the endpoint's own, on an `EmbeddedChannel`).
@Suite struct MetricsRequestGateTests {
    private static func channel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
        try channel.pipeline.syncOperations.addHandler(MetricsRequestGate(requestDeadline: .seconds(10)))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9464)).wait()
        return channel
    }

    private static func written(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) {
            text += buffer.readString(length: buffer.readableBytes) ?? ""
        }
        return text
    }

    @Test func aMalformedRequestIsAnswered400AndClosed() throws {
        let channel = try Self.channel()
        try? channel.writeInbound(ByteBuffer(string: "GARBAGE\r\n\r\n"))
        #expect(try Self.written(channel).hasPrefix("HTTP/1.1 400"))
        #expect(!channel.isActive)
    }

    @Test func aRequestStillIncompleteAtTheDeadlineIsClosed() throws {
        let channel = try Self.channel()
        try channel.writeInbound(ByteBuffer(string: "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: a"))
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        try channel.writeInbound(ByteBuffer(string: "aaaa"))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive)
    }

    @Test func aCompleteRequestIsNotCutByTheDeadline() throws {
        let channel = try Self.channel()
        try channel.writeInbound(ByteBuffer(string: "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"))
        #expect(try channel.readInbound(as: MetricsRoute.self) == .health)
        channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(channel.isActive)
        _ = try? channel.finish()
    }
}

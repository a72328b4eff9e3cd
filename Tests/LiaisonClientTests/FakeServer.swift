import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A scripted Liaison server on 127.0.0.1 at an ephemeral port: it greets, records every line
/// each connection sends, and answers as the test's script says.
final class FakeServer: Sendable {
    /// What to answer to one line: bytes to write, and whether to close afterwards.
    struct Reaction: Sendable {
        var write: String
        var close = false
    }

    /// Answers `line`, the command of connection number `connection` (0 for the first).
    typealias Script = @Sendable (_ connection: Int, _ line: String) -> Reaction

    private let channel: any Channel
    private let received: NIOLockedValueBox<[[String]]>

    /// The port listened on.
    var port: Int {
        self.channel.localAddress!.port!
    }

    /// The lines received, one array per connection, in accept order.
    var lines: [[String]] {
        self.received.withLockedValue { $0 }
    }

    private init(channel: any Channel, received: NIOLockedValueBox<[[String]]>) {
        self.channel = channel
        self.received = received
    }

    /// Starts listening.
    static func start(script: @escaping Script) async throws -> FakeServer {
        let received = NIOLockedValueBox<[[String]]>([])
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                let index = received.withLockedValue { lines in
                    lines.append([])
                    return lines.count - 1
                }
                return channel.eventLoop.makeCompletedFuture {
                    let handler = FakeConnection(index: index, script: script, received: received)
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return FakeServer(channel: channel, received: received)
    }

    /// Stops listening (open connections stay until their peer closes them).
    func stop() async {
        try? await self.channel.close()
    }

    /// The usual answers: `OK AUTH`, `OK ACK <seq>`, `PONG`, `OK UNSUB`, and `OK BYE` then close.
    static func standard(_ line: String) -> Reaction {
        let tokens = line.split(separator: " ").map(String.init)
        switch tokens.first ?? "" {
        case "AUTH": return Reaction(write: "OK AUTH \(tokens[1])\n")
        case "ACK": return Reaction(write: "OK ACK \(tokens[2])\n")
        case "PING": return Reaction(write: "PONG\n")
        case "UNSUB": return Reaction(write: "OK UNSUB \(tokens[1])\n")
        case "QUIT": return Reaction(write: "OK BYE\n", close: true)
        default: return Reaction(write: "ERR 400 not scripted\n")
        }
    }

    /// A `MSG` frame for sid `s1` on `field.mm.x`, payload `m<seq>`.
    static func msg(_ seq: Int64, _ headers: String = "") -> String {
        let payload = "m\(seq)"
        let suffix = headers.isEmpty ? "" : " " + headers
        return
            "MSG s1 \(seq) field.mm.x undp-mm 2026-01-01T00:00:00.000000Z \(payload.utf8.count)\(suffix)\n\(payload)\n"
    }
}

/// One accepted connection of ``FakeServer``.
private final class FakeConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let index: Int
    private let script: FakeServer.Script
    private let received: NIOLockedValueBox<[[String]]>
    private var buffer = ByteBuffer()

    init(index: Int, script: @escaping FakeServer.Script, received: NIOLockedValueBox<[[String]]>) {
        self.index = index
        self.script = script
        self.received = received
    }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(
            self.wrapOutboundOut(ByteBuffer(string: "LIAISON 1 node=t max_payload=1048576\n")),
            promise: nil
        )
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = self.unwrapInboundIn(data)
        self.buffer.writeBuffer(&bytes)
        while let lineFeed = self.buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
            let length = lineFeed - self.buffer.readableBytesView.startIndex
            var line = self.buffer.readString(length: length) ?? ""
            self.buffer.moveReaderIndex(forwardBy: 1)
            if line.hasSuffix("\r") { line.removeLast() }
            self.received.withLockedValue { $0[self.index].append(line) }
            let reaction = self.script(self.index, line)
            if !reaction.write.isEmpty {
                context.writeAndFlush(self.wrapOutboundOut(ByteBuffer(string: reaction.write)), promise: nil)
            }
            if reaction.close {
                context.close(promise: nil)
                return
            }
        }
    }
}

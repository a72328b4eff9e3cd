import NIOCore

/// Counts the protocol bytes a client connection reads and writes (``ServerCounters/Snapshot/bytesIn``
/// and ``ServerCounters/Snapshot/bytesOut``); sits behind the TLS handler, so it counts plaintext.
final class ByteCountingHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let counters: ServerCounters

    init(counters: ServerCounters) {
        self.counters = counters
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.counters.add(\.bytesIn, self.unwrapInboundIn(data).readableBytes)
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        self.counters.add(\.bytesOut, self.unwrapOutboundIn(data).readableBytes)
        context.write(data, promise: promise)
    }
}

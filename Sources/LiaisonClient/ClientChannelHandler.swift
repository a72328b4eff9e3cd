import NIOConcurrencyHelpers
import NIOCore
import NIOSSL

/// Matches reply lines to commands, answers server `PING`s and forwards `MSG` frames.
///
/// Protocol v1 answers every command with exactly one line, in order, so a queue of promises
/// filled in write order is enough to match them. A reply that arrives while the queue is empty
/// was caused by raw bytes (``LiaisonClient/sendRaw(_:)``); it waits in `unclaimed` for
/// ``LiaisonClient/nextReply()``. `unclaimed` is shared with the client because a reply that came
/// just before the server closed must still be readable after this handler left the pipeline.
final class ClientChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = ServerFrame
    typealias OutboundIn = ClientRequest
    typealias OutboundOut = ByteBuffer

    private var greeting: EventLoopPromise<Greeting>?
    private var pending = CircularBuffer<EventLoopPromise<Reply>>()
    private let unclaimed: NIOLockedValueBox<CircularBuffer<Reply>>
    private let messages: AsyncStream<ReceivedMessage>.Continuation
    private var closedError: ClientError?
    /// Where the first close error is published for the client (``LiaisonClient/closeReason``).
    private let closeReason: NIOLockedValueBox<ClientError?>?

    private static let pong: ByteBuffer = ByteBuffer(string: "PONG\n")

    init(
        greeting: EventLoopPromise<Greeting>,
        messages: AsyncStream<ReceivedMessage>.Continuation,
        unclaimed: NIOLockedValueBox<CircularBuffer<Reply>>,
        closeReason: NIOLockedValueBox<ClientError?>? = nil
    ) {
        self.greeting = greeting
        self.messages = messages
        self.unclaimed = unclaimed
        self.closeReason = closeReason
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .message(let message):
            self.messages.yield(message)
        case .line(let line):
            if let greeting = self.greeting {
                self.greeting = nil
                self.receiveGreeting(line, promise: greeting, context: context)
            } else if line == "PING" {
                context.writeAndFlush(self.wrapOutboundOut(Self.pong), promise: nil)
            } else {
                let reply = Reply(line: line, receivedAt: .now)
                if let promise = self.pending.popFirst() {
                    promise.succeed(reply)
                } else {
                    self.unclaimed.withLockedValue { $0.append(reply) }
                }
            }
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // The caller's promise says only that this handler took ownership of the reply promises;
        // a failed socket write closes the channel, which fails them in `channelInactive`.
        promise?.succeed()
        switch self.unwrapOutboundIn(data) {
        case .send(let bytes, let replies):
            if let error = self.closedError {
                for reply in replies {
                    reply.fail(error)
                }
                return
            }
            self.pending.append(contentsOf: replies)
            context.write(self.wrapOutboundOut(bytes), promise: nil)
        case .nextReply(let reply):
            if let waiting = self.unclaimed.withLockedValue({ $0.popFirst() }) {
                reply.succeed(waiting)
            } else if let error = self.closedError {
                reply.fail(error)
            } else {
                self.pending.append(reply)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.shutDown(ClientError(.connectionClosed, "the server closed the connection"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? ClientError {
            self.shutDown(error)
        } else if let error = error as? NIOSSLError, case .uncleanShutdown = error {
            // The peer closed TCP without a TLS close_notify: a closed connection, not a TLS fault.
            self.shutDown(ClientError(.connectionClosed, "the server closed the connection"))
        } else if error is NIOSSLError || error is BoringSSLError {
            self.shutDown(ClientError(.tls, "TLS failed: \(error)"))
        } else {
            self.shutDown(ClientError(.connectionClosed, "connection failed: \(error)"))
        }
        context.close(promise: nil)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.shutDown(ClientError(.connectionClosed, "the connection was closed"))
    }

    private func receiveGreeting(_ line: String, promise: EventLoopPromise<Greeting>, context: ChannelHandlerContext) {
        if let error = ServerError(replyLine: line) {
            promise.fail(error)
            context.close(promise: nil)
            return
        }
        do {
            promise.succeed(try Greeting(line: line))
        } catch {
            promise.fail(error)
            context.close(promise: nil)
        }
    }

    /// Fails everything still waiting; the first error wins, later ones are ignored.
    private func shutDown(_ error: ClientError) {
        guard self.closedError == nil else {
            return
        }
        self.closedError = error
        self.closeReason?.withLockedValue { $0 = error }
        self.greeting?.fail(error)
        self.greeting = nil
        while let promise = self.pending.popFirst() {
            promise.fail(error)
        }
        self.messages.finish()
    }
}

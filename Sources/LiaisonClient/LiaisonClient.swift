import NIOConcurrencyHelpers
public import NIOCore
import NIOPosix
import NIOSSL

/// A client of Liaison protocol v1 over one TCP connection.
///
/// Every command gets exactly one reply line and the server answers in order, so the client
/// matches replies to commands first-in, first-out; several tasks may send commands at once and
/// each gets its own reply. `MSG` frames go to ``messages``; a server `PING` is answered with
/// `PONG` without bothering the caller. When the connection closes, every command still waiting
/// fails with ``ClientError`` (``ClientError/Code/connectionClosed``).
///
/// ```swift
/// let client = try await LiaisonClient.connect(host: "127.0.0.1", port: 7420)
/// try await client.auth(account: "ohchr", token: token)
/// let ack = try await client.publish(topic: "hq.ohchr.guidance-note", payload: Array("r19".utf8))
/// try await client.quit()
/// ```
public final class LiaisonClient: Sendable {
    /// The greeting the server sent on connect.
    public let greeting: Greeting
    /// Every `MSG` frame received, in arrival order, across all subscriptions; finishes when the
    /// connection closes. Iterate it from one task: each message is delivered to one iterator.
    public let messages: AsyncStream<ReceivedMessage>

    let channel: any Channel
    /// Replies that arrived while no command was waiting (caused by ``sendRaw(_:)``).
    private let unclaimed: NIOLockedValueBox<CircularBuffer<Reply>>
    /// The error that closed the connection, once it is closed.
    private let closeError: NIOLockedValueBox<ClientError?>

    private init(
        channel: any Channel,
        greeting: Greeting,
        messages: AsyncStream<ReceivedMessage>,
        unclaimed: NIOLockedValueBox<CircularBuffer<Reply>>,
        closeError: NIOLockedValueBox<ClientError?>
    ) {
        self.channel = channel
        self.greeting = greeting
        self.messages = messages
        self.unclaimed = unclaimed
        self.closeError = closeError
    }

    /// Why the connection closed (`the server closed the connection`, `connection failed: …`), or
    /// `nil` while it is open.
    var closeReason: ClientError? {
        self.closeError.withLockedValue { $0 }
    }

    /// Connects and reads the greeting.
    ///
    /// - Parameters:
    ///   - host: The daemon's host name or address.
    ///   - port: Its TCP port (the TLS listener's when `tls` is given, 7443 by default).
    ///   - tls: Speak TLS with these options, or `nil` for plaintext.
    ///   - group: The event loops to use; `nil` uses `MultiThreadedEventLoopGroup.singleton`.
    /// - Returns: A connected client.
    /// - Throws: The connect error; ``ServerError`` when the server answers with `ERR` instead of a
    ///   greeting (for example 429 when it has too many connections); ``ClientError`` when the
    ///   greeting is malformed, the server closes or stays silent for 10 s before greeting, or
    ///   (``ClientError/Code/tls``) a TLS file cannot be used or the handshake fails.
    public static func connect(
        host: String,
        port: Int,
        tls: TLSOptions? = nil,
        group: (any EventLoopGroup)? = nil
    ) async throws -> LiaisonClient {
        let tlsContext = try tls?.makeContext()
        let serverHostname = tls?.serverHostname(forHost: host)
        let eventLoop = (group ?? MultiThreadedEventLoopGroup.singleton).next()
        let greetingPromise = eventLoop.makePromise(of: Greeting.self)
        let (messages, continuation) = AsyncStream.makeStream(of: ReceivedMessage.self)
        let unclaimed = NIOLockedValueBox(CircularBuffer<Reply>())
        let closeError = NIOLockedValueBox<ClientError?>(nil)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: eventLoop)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connectTimeout(.seconds(10))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let operations = channel.pipeline.syncOperations
                        if let tlsContext {
                            try operations.addHandler(
                                NIOSSLClientHandler(context: tlsContext, serverHostname: serverHostname)
                            )
                        }
                        try operations.addHandler(ByteToMessageHandler(ServerFrameDecoder()))
                        try operations.addHandler(
                            ClientChannelHandler(
                                greeting: greetingPromise,
                                messages: continuation,
                                unclaimed: unclaimed,
                                closeReason: closeError
                            )
                        )
                    }
                }
                .connect(host: host, port: port)
                .get()
        } catch {
            greetingPromise.fail(error)
            continuation.finish()
            throw error
        }
        // A peer that accepts but never greets (not a Liaison server, or a stuck one) must not hang
        // the caller: closing the channel fails the greeting.
        let greetingTimeout = eventLoop.scheduleTask(in: .seconds(10)) {
            channel.close(promise: nil)
        }
        defer { greetingTimeout.cancel() }
        do {
            let greeting = try await greetingPromise.futureResult.get()
            return LiaisonClient(
                channel: channel,
                greeting: greeting,
                messages: messages,
                unclaimed: unclaimed,
                closeError: closeError
            )
        } catch {
            try? await channel.close()
            throw error
        }
    }

    /// Completes when the connection is closed, by either side.
    public func waitUntilClosed() async {
        try? await self.channel.closeFuture.get()
    }

    /// Closes the connection without `QUIT`, and waits until it is closed. Commands still
    /// waiting fail with ``ClientError/Code/connectionClosed``.
    public func close() async {
        try? await self.channel.close()
        await self.waitUntilClosed()
    }

    /// Writes `bytes` and returns one future per expected reply line, in order.
    ///
    /// The futures are created here and handed to ``ClientChannelHandler`` with the bytes, so the
    /// handler queues them in wire order. If the handler has already left the pipeline the write
    /// fails and so do the futures.
    func submit(_ bytes: ByteBuffer, replies count: Int) -> [EventLoopFuture<Reply>] {
        let eventLoop = self.channel.eventLoop
        let promises = (0..<count).map { _ in eventLoop.makePromise(of: Reply.self) }
        let written = eventLoop.makePromise(of: Void.self)
        written.futureResult.whenFailure { error in
            for promise in promises {
                promise.fail(ClientError(.connectionClosed, "the connection is closed (\(error))"))
            }
        }
        self.channel.writeAndFlush(ClientRequest.send(bytes, replies: promises), promise: written)
        return promises.map(\.futureResult)
    }

    /// Writes one command and waits for its reply line.
    func roundTrip(_ bytes: ByteBuffer) async throws -> Reply {
        try await self.submit(bytes, replies: 1)[0].get()
    }

    /// Sends raw bytes with no reply tracking, for tests of hostile or malformed input; read the
    /// replies they cause with ``nextReply()``.
    ///
    /// A command sent with any other method before those replies are read would take them as
    /// its own, so read them first.
    ///
    /// - Parameter bytes: The bytes, written as they are.
    /// - Throws: ``ClientError/Code/connectionClosed`` when the connection is closed.
    public func sendRaw(_ bytes: [UInt8]) async throws {
        let promise = self.channel.eventLoop.makePromise(of: Void.self)
        self.channel.writeAndFlush(ClientRequest.send(ByteBuffer(bytes: bytes), replies: []), promise: promise)
        do {
            try await promise.futureResult.get()
        } catch {
            throw ClientError(.connectionClosed, "the connection is closed (\(error))")
        }
    }

    /// Returns the next reply line that no command claimed, verbatim, waiting for it if needed.
    ///
    /// A reply that arrived just before the server closed (such as the `ERR 413` before an
    /// oversize line closes the connection) is still returned.
    ///
    /// - Returns: The line without its line ending (`OK …`, `ERR …`, `PONG`).
    /// - Throws: ``ClientError/Code/connectionClosed`` when the connection closed and no reply is left.
    public func nextReply() async throws -> String {
        let promise = self.channel.eventLoop.makePromise(of: Reply.self)
        let written = self.channel.eventLoop.makePromise(of: Void.self)
        let unclaimed = self.unclaimed
        written.futureResult.whenFailure { _ in
            if let reply = unclaimed.withLockedValue({ $0.popFirst() }) {
                promise.succeed(reply)
            } else {
                promise.fail(ClientError(.connectionClosed, "the server closed the connection"))
            }
        }
        self.channel.writeAndFlush(ClientRequest.nextReply(promise), promise: written)
        return try await promise.futureResult.get().line
    }
}

import DequeModule
import LiaisonCore
import LiaisonStore
import Logging
import NIOCore

/// One client connection: authentication, commands, subscriptions and their delivery.
///
/// Lives on its channel's event loop and never blocks it (DESIGN.md invariant 4): storage work
/// goes to the writer thread or the read pool, and results hop back here. Replies leave in
/// command order through an ``OutboundQueue``.
final class ClientSession: ChannelInboundHandler {
    typealias InboundIn = InboundFrame
    typealias OutboundOut = ByteBuffer

    let shared: SessionContext
    let connectionID: UInt64
    var logger: Logger

    var context: ChannelHandlerContext?
    var sink: SessionSink?
    var account: Account?
    var subscriptions: [String: Subscription] = [:]
    /// Redelivery, replay and durable-progress timer; runs while explicit or durable
    /// subscriptions exist.
    var ackTimer: RepeatedTask?
    var ackTicks = 0
    /// Closes a connection whose reader stopped altogether (unwritable for the stall timeout).
    var stallTimer: Scheduled<Void>?
    var outbound = OutboundQueue()
    var pingsOutstanding = 0

    /// Frames that arrived while an `AUTH` or a durable `SUB` was being decided: later commands
    /// depend on its outcome.
    var deferred = Deque<InboundFrame>()
    var blockingInFlight = false
    /// Set by `QUIT` or shutdown: take no more commands, close once every reply is out.
    var closing = false
    /// Set by graceful shutdown: commands that still arrive get `ERR 503`.
    var draining = false
    /// The channel went inactive: late storage answers must not act on this session.
    var isClosed = false
    /// Payload bytes of this connection's publishes waiting for their commit. Past
    /// ``publishBackPressureBytes`` the session stops reading, so a client that pipelines without
    /// waiting for acks cannot make the daemon buffer without bound (DESIGN.md invariant 5).
    var pendingPublishBytes = 0
    var readingPausedForPublishes = false
    var needsFlush = false
    /// The peer as text, for logs and audit events.
    let remoteAddress: String
    /// Closes a connection that does not authenticate in time.
    var authTimer: Scheduled<Void>?
    /// Closes a connection that sends no command for the idle timeout.
    var idleTimer: RepeatedTask?
    /// When the client last sent a command other than PING/PONG (monotonic milliseconds).
    var lastCommandAt: Int64 = 0

    init(shared: SessionContext, remote: String) {
        self.shared = shared
        self.remoteAddress = remote
        self.connectionID = shared.ids.next()
        var logger = shared.logger
        logger[metadataKey: LogKey.connection] = "\(self.connectionID)"
        logger[metadataKey: LogKey.remote] = "\(remote)"
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.sink = SessionSink(session: self, eventLoop: context.eventLoop)
    }

    /// The peer's IP address alone (the key of the AUTH throttle).
    /// Captured when the connection opens: after it closes, the channel no longer knows its peer.
    var remoteHost = ""

    func channelActive(context: ChannelHandlerContext) {
        self.shared.registry.add(context.channel)
        self.shared.counters.add(\.connections)
        self.logger.debug("connection opened")
        self.lastCommandAt = Self.monotonicMilliseconds()
        self.remoteHost = context.channel.remoteAddress?.ipAddress ?? self.remoteAddress
        if self.shared.registry.count > self.shared.limits.maxConnections {
            self.logger.warning("connection refused: \(self.shared.limits.maxConnections) connections open")
            self.shared.security.events.record(
                .connectionRefused,
                account: nil,
                remote: self.remoteAddress,
                reason: "daemon connection limit"
            )
            self.send(
                line: ProtocolError(.tooManyRequests, "too many connections", closesConnection: true).replyLine
            )
            self.closing = true
            self.closeIfDone()
            context.fireChannelActive()
            return
        }
        self.startAuthTimer()
        self.startIdleTimer()
        let greeting = ServerLine.greeting(
            node: self.shared.nodeName,
            maxPayload: self.shared.limits.maxPayload,
            extra: [("max_line", "\(self.shared.limits.maxLineLength)")]
        )
        self.send(line: greeting)
        self.flushIfNeeded()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        // Nothing pipelined behind a pending AUTH or durable SUB may run on a closed connection
        // (it would leave a subscription routed to nobody).
        self.isClosed = true
        self.closing = true
        self.deferred.removeAll()
        self.ackTimer?.cancel()
        self.stallTimer?.cancel()
        self.authTimer?.cancel()
        self.idleTimer?.cancel()
        for sid in Array(self.subscriptions.keys) { self.endSubscription(sid) }
        if let account = self.account?.name { self.shared.registry.releaseAccount(account) }
        self.shared.registry.remove(context.channel)
        self.logger.debug("connection closed")
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = self.unwrapInboundIn(data)
        self.pingsOutstanding = 0
        switch frame {
        case .command(.ping), .command(.pong): break
        default: self.lastCommandAt = Self.monotonicMilliseconds()
        }
        if self.draining {
            // Read before shutdown began: still one reply per command, and nothing is stored.
            if case .command(.pong) = frame { return }
            self.send(line: ProtocolError(.unavailable, "server shutting down, not processed").replyLine)
            return
        }
        if self.closing { return }
        if self.blockingInFlight {
            self.deferred.append(frame)
            // Stop reading rather than buffer an unbounded pipeline behind a slow AUTH.
            if self.deferred.count >= 256 {
                context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
            }
            return
        }
        self.handle(frame)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.flushIfNeeded()
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            self.stallTimer?.cancel()
            self.stallTimer = nil
            self.resumeCatchUps()
        } else if self.stallTimer == nil {
            // Slow readers are fine (they catch up from the log); one that reads nothing at all
            // for the whole timeout holds a connection for nobody.
            let timeout = self.shared.limits.stallTimeoutMilliseconds
            let session = NIOLoopBound(self, eventLoop: context.eventLoop)
            self.stallTimer = context.eventLoop.scheduleTask(in: .milliseconds(timeout)) {
                let session = session.value
                guard let context = session.context, !context.channel.isWritable else { return }
                session.logger.notice("closing connection: reader stalled, nothing read for \(timeout) ms")
                context.close(promise: nil)
            }
        }
        context.fireChannelWritabilityChanged()
    }

    /// Removes a subscription: unroutes it, saves a durable consumer's progress and frees its name.
    func endSubscription(_ sid: String) {
        guard let subscription = self.subscriptions.removeValue(forKey: sid) else { return }
        self.shared.router.unsubscribe(subscription.pattern, subscriptionID: subscription.subscriptionID)
        self.shared.counters.add(\.subscriptions, -1)
        guard let durable = subscription.durable, let account = self.account?.name else { return }
        if subscription.progressIsDirty {
            Self.storeProgress(
                account: account,
                durable: durable,
                floor: subscription.ackFloor,
                delivered: subscription.state.lastDelivered,
                shared: self.shared
            )
        }
        self.shared.durables.release(account: account, name: durable)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? ProtocolError {
            // A framing error: the stream is out of sync, so answer and close (DESIGN.md invariant 7).
            self.logger.info("closing connection: \(error.message)", metadata: [LogKey.code: "\(error.code.rawValue)"])
            self.closing = true
            self.write(self.outbound.append(self.buffer(line: error.replyLine)))
            self.closeAfterFlush()
            return
        }
        self.logger.debug("connection error: \(error)")
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            self.idle()
            return
        }
        if let identity = event as? PeerIdentity {
            // Mutual TLS: the client certificate names the account; no AUTH needed.
            self.authenticateByCertificate(identity.account)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Closes the connection once it has sent no command for the idle timeout (if one is set).
    private func startIdleTimer() {
        let timeout = self.shared.limits.idleTimeoutMilliseconds
        guard timeout > 0, let context = self.context else { return }
        let session = NIOLoopBound(self, eventLoop: context.eventLoop)
        let period = max(100, min(timeout / 4, 1000))
        self.idleTimer = context.eventLoop.scheduleRepeatedTask(
            initialDelay: .milliseconds(period),
            delay: .milliseconds(period)
        ) { task in
            let session = session.value
            guard Self.monotonicMilliseconds() - session.lastCommandAt >= timeout else { return }
            task.cancel()
            session.logger.notice("closing connection: idle for \(timeout) ms")
            session.send(line: ProtocolError(.badRequest, "idle timeout", closesConnection: true).replyLine)
            session.closing = true
            session.closeIfDone()
        }
    }

    /// The client said nothing for a ping interval: ping it, or give up on it.
    private func idle() {
        guard let context = self.context else { return }
        if self.pingsOutstanding >= self.shared.limits.maxPingsOutstanding {
            self.logger.notice(
                "closing connection: no reply to \(self.pingsOutstanding) PING(s) within \(self.shared.limits.pingIntervalMilliseconds) ms each"
            )
            context.close(promise: nil)
            return
        }
        self.pingsOutstanding += 1
        self.send(line: ServerLine.ping)
        self.flushIfNeeded()
    }

    // MARK: - Output

    func buffer(line: String) -> ByteBuffer {
        var buffer = self.context!.channel.allocator.buffer(capacity: line.utf8.count + 1)
        buffer.writeReply(line)
        return buffer
    }

    /// Queues a frame that is ready now (reply, `PING` or `MSG`), behind any reply still awaited.
    func send(line: String) {
        self.write(self.outbound.append(self.buffer(line: line)))
    }

    func send(buffer: ByteBuffer) {
        self.write(self.outbound.append(buffer))
    }

    /// Fills a reserved reply slot.
    func fill(_ ticket: OutboundQueue.Ticket, line: String) {
        self.write(self.outbound.fill(ticket, with: self.buffer(line: line)))
        self.closeIfDone()
    }

    func write(_ buffers: [ByteBuffer]) {
        guard let context = self.context, !buffers.isEmpty else { return }
        for buffer in buffers { context.write(self.wrapOutboundOut(buffer), promise: nil) }
        self.needsFlush = true
    }

    func flushIfNeeded() {
        guard self.needsFlush, let context = self.context else { return }
        self.needsFlush = false
        context.flush()
    }

    /// After `QUIT` or during shutdown: close once the last awaited reply has been written.
    func closeIfDone() {
        guard self.closing, self.outbound.waitingCount == 0, !self.blockingInFlight, self.context != nil else { return }
        self.closeAfterFlush()
    }

    /// Flushes what is written, then closes the channel.
    private func closeAfterFlush() {
        guard let context = self.context else { return }
        self.needsFlush = false
        let channel = context.channel
        context.writeAndFlush(self.wrapOutboundOut(channel.allocator.buffer(capacity: 0)))
            .whenComplete { _ in channel.close(promise: nil) }
    }

    /// Graceful shutdown: take no more commands, answer what is pending, then close.
    func drain() {
        guard let context = self.context else { return }
        self.closing = true
        self.draining = true
        context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        self.closeIfDone()
        self.flushIfNeeded()
    }
}

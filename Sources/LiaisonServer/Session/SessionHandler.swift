import LiaisonCore
import LiaisonStore
import Logging
import NIOCore

/// The channel handler of one client connection: it feeds events to a ``SessionStateMachine``
/// and executes the actions it returns, nothing else (docs/ARCHITECTURE.md, "Session state
/// machine").
///
/// Lives on its channel's event loop and never blocks it: storage work goes to the writer or
/// the store, and answers hop back here. Everything it holds (timers, the router's sink, the
/// context) is released in `handlerRemoved`, so a closed connection costs nothing.
final class SessionHandler: ChannelInboundHandler {
    typealias InboundIn = InboundFrame
    typealias OutboundOut = ByteBuffer

    let shared: SessionContext
    let remoteAddress: String
    var logger: Logger
    var machine: SessionStateMachine?
    var context: ChannelHandlerContext?
    var sink: SessionSink?
    var timers: [SessionTimer: Scheduled<Void>] = [:]
    /// Actions produced while others are being executed (a write can fire a writability change):
    /// run after them, in order.
    private var backlog: [SessionAction] = []
    private var executing = false
    /// A flush is scheduled for the end of the current event-loop task (``flushSoon()``).
    private var flushPending = false

    /// The daemon-wide connection number, as logged under `liaison.connection`.
    private let connectionID: UInt64

    init(shared: SessionContext, remote: String) {
        self.shared = shared
        self.remoteAddress = remote
        var logger = shared.logger
        let connectionID = shared.ids.next()
        self.connectionID = connectionID
        logger[metadataKey: LogKey.connection] = "\(connectionID)"
        logger[metadataKey: LogKey.remote] = "\(remote)"
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.sink = SessionSink(handler: self, eventLoop: context.eventLoop)
        let configuration = SessionStateMachine.Configuration(
            limits: self.shared.live.limits,
            nodeName: self.shared.nodeName,
            remoteHost: context.channel.remoteAddress?.ipAddress ?? self.remoteAddress,
            publishTimeoutMilliseconds: self.shared.publishTimeoutMilliseconds,
            receiptFlushMilliseconds: self.shared.receipts?.flushMilliseconds,
            connectionName: "c\(self.connectionID)/\(self.remoteAddress)"
        )
        let ids = self.shared.ids
        self.machine = SessionStateMachine(
            configuration: configuration,
            policy: DaemonSessionPolicy(shared: self.shared),
            nextSubscriptionID: { ids.next() }
        )
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        for (_, timer) in self.timers { timer.cancel() }
        self.timers.removeAll()
        self.sink?.detach()
        self.sink = nil
        self.context = nil
        self.machine = nil
        self.backlog.removeAll()
    }

    func channelActive(context: ChannelHandlerContext) {
        self.shared.registry.add(context.channel)
        self.shared.counters.add(\.connections)
        self.shared.counters.add(\.openConnections)
        self.logger.debug("connection opened")
        self.run { $0.channelActive(now: Monotonic.milliseconds()) }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.run { $0.channelInactive() }
        self.shared.registry.remove(context.channel)
        self.shared.counters.add(\.openConnections, -1)
        self.logger.debug("connection closed")
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = self.unwrapInboundIn(data)
        self.run { $0.frameReceived(frame, now: Monotonic.milliseconds()) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.run { $0.readComplete() }
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        let writable = context.channel.isWritable
        self.run { $0.writabilityChanged(writable, now: Monotonic.milliseconds()) }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? ProtocolError {
            // A framing error: the stream is out of sync, so answer and close.
            self.run { $0.framingError(error) }
            return
        }
        self.logger.debug("connection error: \(error)")
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            self.run { $0.readIdle() }
        } else if let identity = event as? PeerIdentity {
            // Mutual TLS: the client certificate names the account; no AUTH needed.
            self.run { $0.certificateIdentified(identity.account) }
        } else if case ChannelEvent.inputClosed = event {
            self.run { $0.inputClosed() }
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    /// Live messages from the router (through ``SessionSink``).
    func deliver(_ deliveries: [Delivery]) {
        guard let writable = self.context?.channel.isWritable else { return }
        self.run { $0.deliver(deliveries, writable: writable, now: Monotonic.milliseconds()) }
    }

    /// Graceful shutdown of the daemon.
    func drain() {
        self.run { $0.drain() }
    }

    // MARK: - Executing actions

    /// Feeds one event to the machine and executes what it returns.
    func run(_ event: (inout SessionStateMachine) -> [SessionAction]) {
        guard self.machine != nil else { return }
        if let channel = self.context?.channel { self.machine!.observe(writable: channel.isWritable) }
        let actions = event(&self.machine!)
        self.execute(actions)
    }

    private func execute(_ actions: [SessionAction]) {
        guard !actions.isEmpty else { return }
        if self.executing {
            self.backlog.append(contentsOf: actions)
            return
        }
        self.executing = true
        defer { self.executing = false }
        var queue = actions[...]
        while true {
            while let action = queue.popFirst() { self.perform(action) }
            guard !self.backlog.isEmpty else { return }
            queue = self.backlog[...]
            self.backlog.removeAll()
        }
    }

    private func perform(_ action: SessionAction) {
        switch action {
        case .write(let frames):
            self.write(frames)
        case .flush:
            self.context?.flush()
        case .recheckWritability:
            guard let context = self.context else { return }
            let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
            // A task of its own: it runs after this event's flush, with a fresh burst budget.
            context.eventLoop.execute {
                handler.value.run { $0.writabilityRechecked(now: Monotonic.milliseconds()) }
            }
        case .setReading(let on):
            self.context?.channel.setOption(ChannelOptions.autoRead, value: on).whenComplete { _ in }
        case .close:
            guard let context = self.context else { return }
            let channel = context.channel
            context.writeAndFlush(self.wrapOutboundOut(channel.allocator.buffer(capacity: 0)))
                .whenComplete { _ in channel.close(promise: nil) }
        case .abort:
            self.context?.close(promise: nil)
        case .submitPublish(let ticket, let message):
            self.submit(ticket, message)
        case .store(let request):
            self.ask(request)
        case .route(let sid, let subscriptionID, let pattern):
            guard let sink = self.sink else { return }
            self.shared.router.subscribe(pattern, sid: sid, subscriptionID: subscriptionID, sink: sink)
        case .unroute(let subscriptionID, let pattern):
            self.shared.router.unsubscribe(pattern, subscriptionID: subscriptionID)
        case .releaseDurable(let account, let name):
            self.shared.durables.release(account: account, name: name)
        case .releaseAccount(let account):
            self.shared.registry.releaseAccount(account)
        case .startTimer(let timer, let milliseconds):
            self.schedule(timer, milliseconds)
        case .cancelTimer(let timer):
            self.timers.removeValue(forKey: timer)?.cancel()
        case .securityEvent(let kind, let account, let reason):
            self.shared.counters.count(kind)
            self.shared.security.events.record(kind, account: account, remote: self.remoteAddress, reason: reason)
        case .count(let counter, let amount):
            self.shared.counters.add(counter.keyPath, amount)
        case .refused(let command, let code):
            self.shared.counters.refused(command, code: code)
        case .log(let level, let text):
            self.log(level, text)
        case .recordReceipts(let batches):
            self.shared.receipts?.record(batches)
        }
    }

    private func write(_ frames: [OutboundFrame]) {
        guard let context = self.context else { return }
        for frame in frames {
            switch frame {
            case .line(let line):
                var buffer = context.channel.allocator.buffer(capacity: line.utf8.count + 1)
                buffer.writeReply(line)
                context.write(self.wrapOutboundOut(buffer), promise: nil)
            case .message(let sid, let message):
                var buffer = context.channel.allocator.buffer(capacity: 128 + message.payload.count)
                buffer.writeMessage(sid: sid, message: message)
                context.write(self.wrapOutboundOut(buffer), promise: nil)
            case .lines(let lines):
                var buffer = context.channel.allocator.buffer(capacity: lines.reduce(0) { $0 + $1.utf8.count + 1 })
                for line in lines { buffer.writeReply(line) }
                context.write(self.wrapOutboundOut(buffer), promise: nil)
            }
        }
    }

    private func schedule(_ timer: SessionTimer, _ milliseconds: Int64) {
        guard let context = self.context else { return }
        self.timers[timer]?.cancel()
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.timers[timer] = context.eventLoop.scheduleTask(in: .milliseconds(max(0, milliseconds))) {
            let handler = handler.value
            handler.timers.removeValue(forKey: timer)
            handler.run { $0.timerFired(timer, now: Monotonic.milliseconds()) }
        }
    }

    private func submit(_ ticket: UInt64, _ message: NewMessage) {
        guard let context = self.context else { return }
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.shared.writer.submit(message, on: context.eventLoop) { result in
            handler.value.run { $0.published(ticket, result, flush: false) }
            handler.value.flushSoon()
        }
    }

    /// Flushes once the current event-loop task ends: the writer answers a batch's publishes
    /// on one loop in one task, so their replies leave in one write, not one write each.
    private func flushSoon() {
        guard !self.flushPending, let context = self.context else { return }
        self.flushPending = true
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            handler.value.flushPending = false
            handler.value.run { $0.finish() }
        }
    }

    private func log(_ level: SessionAction.LogLevel, _ text: String) {
        switch level {
        case .debug: self.logger.debug("\(text)")
        case .info: self.logger.info("\(text)")
        case .notice: self.logger.notice("\(text)")
        case .warning: self.logger.warning("\(text)")
        case .error: self.logger.error("\(text)")
        }
    }
}

extension SessionCounter {
    /// The counter's field in ``ServerCounters/Snapshot``.
    var keyPath: WritableKeyPath<ServerCounters.Snapshot, Int> {
        switch self {
        case .published: \.published
        case .duplicates: \.duplicates
        case .publishFailures: \.publishFailures
        case .delivered: \.delivered
        case .catchUps: \.catchUps
        case .redelivered: \.redelivered
        case .deadLettered: \.deadLettered
        case .replayPages: \.replayPages
        case .subscriptions: \.subscriptions
        case .publishRateLimited: \.publishesRateLimited
        case .subscriptionLimitReached: \.subscriptionsOverLimit
        }
    }
}

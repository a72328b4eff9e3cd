import DequeModule
import LiaisonCore
import LiaisonStore
import NIOCore

/// One client connection's protocol state, without I/O: events in, actions out.
///
/// Modelled on postgres-nio's `ConnectionStateMachine`: the channel handler
/// (``SessionHandler``) feeds it what happened (a frame decoded, the store answered, a timer
/// fired, the socket's writability changed, the channel closed) and executes the
/// ``SessionAction``s it returns, in order. Every decision lives here, so the whole protocol is
/// tested without sockets or a database (docs/ARCHITECTURE.md, "Session state machine").
///
/// Times are monotonic milliseconds, passed in with each event.
struct SessionStateMachine {
    /// Where the connection is in its life. Frames that arrive while ``authenticating`` or
    /// ``opening(sid:)`` wait in ``deferred``: later commands depend on the outcome.
    enum Phase: Equatable {
        /// Greeted; only `AUTH`, `PING`, `PONG` and `QUIT` do anything.
        case awaitingAuth
        /// An `AUTH` (or a client certificate) is being checked.
        case authenticating
        /// Commands run as ``SessionStateMachine/account``.
        case authenticated
        /// A durable `SUB` is being bound in the store.
        case opening(sid: String)
        /// `QUIT`, end of input, a fatal error or a limit: no more commands; the connection
        /// closes once every awaited reply is out.
        case closing
        /// Graceful shutdown: commands still read are answered `ERR 503`; closes once every
        /// awaited reply is out.
        case draining
        /// The channel is gone.
        case closed
    }

    /// The limits and identity the machine works with.
    struct Configuration {
        var limits: ServerConfiguration.Limits
        var nodeName: String
        /// The peer's IP address (the AUTH throttle's key) and `ip:port` (for audit events).
        var remoteHost: String
        /// How long a publish may wait for its commit before it is answered `ERR 503`, in ms.
        var publishTimeoutMilliseconds: Int64 = 5_000
        /// How often receipt ranges are handed over, in ms; `nil` when receipts are off.
        var receiptFlushMilliseconds: Int64?
        /// `c<connection id>/<ip:port>`, the connection as receipts name it.
        var connectionName: String = ""
    }

    /// Deferred frames past this many pause reading, so a pipeline behind a slow `AUTH` cannot
    /// grow memory without bound.
    static let maxDeferred = 256
    /// `RECEIPTS` waiting for their store read past this many pause reading (one read is in
    /// flight per connection; ``SessionStateMachine/askReceipts(seq:)``).
    static let maxWaitingReceipts = 16
    /// How often the ack timer runs, in milliseconds.
    static let ackTickMilliseconds: Int64 = 100
    /// Every this many ack ticks, durable consumers look for dead letters an admin asked to replay.
    static let replayCheckTicks = 20

    let configuration: Configuration
    let policy: any SessionPolicy
    /// Hands out daemon-wide unique subscription serials.
    let nextSubscriptionID: () -> UInt64

    private(set) var phase: Phase = .awaitingAuth
    private(set) var account: Account?
    /// The `AUTH` being checked, if any.
    var pendingAuth: PendingAuth?
    /// The durable `SUB` being bound, if any.
    var pendingDurable: PendingDurable?
    var subscriptions: [String: Subscription] = [:]
    var outbound = OutboundQueue<OutboundFrame>()
    var deferred = Deque<InboundFrame>()
    /// The peer shut its write side: answer what was received, then close.
    var inputEnded = false
    /// Payload bytes of this connection's publishes waiting for their commit; past the
    /// high-water mark reading pauses (bounded memory per connection).
    var pendingPublishBytes = 0
    /// Reading is paused until the pending publish bytes fall to half the high-water mark.
    var publishPaused = false
    /// Publishes awaiting their commit: ticket → payload bytes and when the deadline passes.
    var pendingPublishes: [UInt64: (bytes: Int, deadline: Int64)] = [:]
    /// Whether the socket is below its high-water mark (as last reported) and how many bytes
    /// this machine released since (a burst larger than the mark counts as unwritable).
    var writable = true
    var burstBytes = 0
    /// A ``SessionAction/recheckWritability`` is out and its answer not yet in.
    var writabilityRecheckPending = false
    var pingsOutstanding = 0
    var lastCommandAt: Int64 = 0
    var ackTimerRunning = false
    var receiptTimerRunning = false
    var ackTicks = 0
    var stallTimerRunning = false
    /// A progress record is being written; the next waits for it.
    var progressInFlight = false
    /// `RECEIPTS` read from the client whose store read has not started, in command order.
    var receiptsWaiting = Deque<PendingReceipts>()
    /// A `RECEIPTS` store read is in flight; the next waits for its answer.
    var receiptsReading = false
    /// Page reads that failed, by subscription serial, waiting for their retry timer.
    var retryPages: [UInt64: (sid: String, request: PageRequest)] = [:]
    /// Whether reading is on, as last told to the handler.
    private var reading = true
    /// What this event asked for so far.
    private var actions: [SessionAction] = []
    private var needsFlush = false
    /// The close action was emitted.
    private var closeRequested = false

    init(configuration: Configuration, policy: any SessionPolicy, nextSubscriptionID: @escaping () -> UInt64) {
        self.configuration = configuration
        self.policy = policy
        self.nextSubscriptionID = nextSubscriptionID
    }

    var limits: ServerConfiguration.Limits { self.configuration.limits }

    // MARK: - Events

    /// The connection opened: greet it, or refuse it past the daemon's connection limit.
    mutating func channelActive(now: Int64) -> [SessionAction] {
        self.lastCommandAt = now
        if self.policy.connectionCount > self.limits.maxConnections {
            self.emit(.log(.warning, "connection refused: \(self.limits.maxConnections) connections open"))
            self.emit(.securityEvent(.connectionRefused, account: nil, reason: "daemon connection limit"))
            self.send(ProtocolError(.tooManyRequests, "too many connections", closesConnection: true).replyLine)
            self.phase = .closing
            return self.finish()
        }
        if self.limits.authTimeoutMilliseconds > 0 {
            self.emit(.startTimer(.auth, milliseconds: self.limits.authTimeoutMilliseconds))
        }
        if self.limits.idleTimeoutMilliseconds > 0 {
            self.emit(.startTimer(.idle, milliseconds: self.idleCheckPeriod))
        }
        self.send(
            ServerLine.greeting(
                node: self.configuration.nodeName,
                maxPayload: self.limits.maxPayload,
                extra: [("max_line", "\(self.limits.maxLineLength)")]
            )
        )
        return self.finish()
    }

    /// A decoded frame (a command, a publish with its payload, or a malformed line).
    mutating func frameReceived(_ frame: InboundFrame, now: Int64) -> [SessionAction] {
        self.pingsOutstanding = 0
        switch frame {
        case .command(.ping), .command(.pong): break
        default: self.lastCommandAt = now
        }
        switch self.phase {
        case .closed, .closing:
            break
        case .draining:
            // Read before shutdown began: still one reply per command, and nothing is stored.
            if case .command(.pong) = frame { break }
            self.send(ProtocolError(.unavailable, "server shutting down, not processed").replyLine)
        case .authenticating, .opening:
            self.deferred.append(frame)
        case .awaitingAuth, .authenticated:
            self.handle(frame, now: now)
        }
        return self.finish(flush: false)
    }

    /// The read burst ended: flush what it produced.
    mutating func readComplete() -> [SessionAction] {
        self.needsFlush = true
        return self.finish()
    }

    /// The peer shut its write side (`shutdown(SHUT_WR)`, as `nc -q` does at the end of its
    /// input): everything received is still answered, then the connection closes.
    mutating func inputClosed() -> [SessionAction] {
        self.inputEnded = true
        self.closeWhenIdleAfterInput()
        return self.finish()
    }

    /// The framing broke (a line or payload too large): answer and close, the stream is out of sync.
    mutating func framingError(_ error: ProtocolError) -> [SessionAction] {
        self.emit(.log(.info, "closing connection: \(error.message)"))
        self.deferred.removeAll()
        self.send(error.replyLine)
        self.phase = .closing
        return self.finish()
    }

    /// The socket crossed its high- or low-water mark.
    mutating func writabilityChanged(_ writable: Bool, now: Int64) -> [SessionAction] {
        self.writable = writable
        self.burstBytes = 0
        if writable {
            if self.stallTimerRunning {
                self.stallTimerRunning = false
                self.emit(.cancelTimer(.stall))
            }
            self.resumeCatchUps(now: now)
            self.readNextReceipts()
        } else if !self.stallTimerRunning, self.phase != .closed {
            // Slow readers are fine (they catch up from the log); one that reads nothing at all
            // for the whole timeout holds a connection for nobody.
            self.stallTimerRunning = true
            self.emit(.startTimer(.stall, milliseconds: self.limits.stallTimeoutMilliseconds))
        }
        return self.finish()
    }

    /// The answer to a ``SessionAction/recheckWritability``: the handler observed the socket's
    /// writability afresh (and with it a fresh burst budget). When the socket is writable,
    /// paused catch-ups and receipts resume now; when it is not, its writability change to
    /// writable resumes them later.
    mutating func writabilityRechecked(now: Int64) -> [SessionAction] {
        self.writabilityRecheckPending = false
        guard self.phase != .closed, self.writable else { return self.finish() }
        self.resumeCatchUps(now: now)
        self.readNextReceipts()
        return self.finish()
    }

    /// The client sent nothing for a ping interval: ping it, or give up on it.
    mutating func readIdle() -> [SessionAction] {
        guard self.phase != .closed else { return [] }
        // The client waits for us (a slow AUTH, a commit): a PING would queue behind that reply,
        // so the client could not answer it. Not silent: not pinged, not closed.
        guard self.outbound.waitingCount == 0 else { return [] }
        if self.pingsOutstanding >= self.limits.maxPingsOutstanding {
            self.emit(
                .log(
                    .notice,
                    "closing connection: no reply to \(self.pingsOutstanding) PING(s) within \(self.limits.pingIntervalMilliseconds) ms each"
                )
            )
            self.emit(.abort)
            return self.finish()
        }
        self.pingsOutstanding += 1
        self.send(ServerLine.ping)
        return self.finish()
    }

    /// Graceful shutdown: take no more commands, answer what is pending, then close.
    mutating func drain() -> [SessionAction] {
        guard self.phase != .closed else { return [] }
        self.phase = .draining
        self.deferred.removeAll()
        return self.finish()
    }

    /// The channel closed: unroute every subscription, record durable progress, free claims.
    mutating func channelInactive() -> [SessionAction] {
        guard self.phase != .closed else { return [] }
        self.phase = .closed
        // Nothing pipelined behind a pending AUTH or durable SUB may run on a closed connection
        // (it would leave a subscription routed to nobody).
        self.deferred.removeAll()
        for timer in [SessionTimer.auth, .idle, .stall, .ackTick, .authDelay, .receipts] {
            self.emit(.cancelTimer(timer))
        }
        for sid in Array(self.subscriptions.keys) { self.endSubscription(sid) }
        if let pending = self.pendingDurable, let account = self.account?.name, let name = pending.request.durable {
            // A bind still in the store: its answer is ignored, so free the name now.
            self.pendingDurable = nil
            self.emit(.releaseDurable(account: account, name: name))
        }
        if let account = self.account?.name { self.emit(.releaseAccount(account)) }
        self.pendingPublishes.removeAll()
        return self.takeActions()
    }

    // MARK: - Output helpers

    mutating func emit(_ action: SessionAction) {
        self.actions.append(action)
    }

    /// Queues a frame that is ready now (reply, `PING` or `MSG`), behind any reply still awaited.
    mutating func send(_ line: String) {
        self.release(self.outbound.append(.line(line)))
    }

    mutating func send(message: Message, sid: String) {
        self.burstBytes += message.payload.count + 128
        self.release(self.outbound.append(.message(sid: sid, message)))
    }

    /// Fills a reserved reply slot.
    mutating func fill(_ ticket: OutboundQueue<OutboundFrame>.Ticket, _ line: String) {
        self.release(self.outbound.fill(ticket, with: .line(line)))
    }

    mutating func release(_ frames: [OutboundFrame]) {
        guard !frames.isEmpty, self.phase != .closed else { return }
        if case .write(let earlier)? = self.actions.last {
            self.actions[self.actions.count - 1] = .write(earlier + frames)
        } else {
            self.actions.append(.write(frames))
        }
        self.needsFlush = true
    }

    /// The handler tells the socket's writability before every event; the burst budget starts
    /// afresh with each event.
    mutating func observe(writable: Bool) {
        self.writable = writable
        self.burstBytes = 0
    }

    /// Whether more output may go out now: the socket is below its high-water mark and this
    /// machine has not released more than the mark since it last heard.
    var canWrite: Bool { self.writable && self.burstBytes < self.limits.highWaterMark }

    /// Ends the event: the reading decision (made here only), the close decision, the flush.
    mutating func finish(flush: Bool = true) -> [SessionAction] {
        if self.phase == .closing || self.phase == .draining, self.outbound.waitingCount == 0, !self.closeRequested {
            // The channel's close event (channelInactive) then ends the session.
            self.closeRequested = true
            self.needsFlush = false
            self.emit(.close)
        }
        let wantsReading: Bool =
            switch self.phase {
            case .closing, .draining, .closed: false
            case .authenticating, .opening: self.deferred.count < Self.maxDeferred
            case .awaitingAuth, .authenticated:
                !self.publishPaused && self.receiptsWaiting.count < Self.maxWaitingReceipts
            }
        if wantsReading != self.reading, self.phase != .closed || !wantsReading {
            self.reading = wantsReading
            self.emit(.setReading(wantsReading))
        }
        if flush, self.needsFlush {
            self.needsFlush = false
            self.emit(.flush)
        }
        if self.writable, self.burstBytes >= self.limits.highWaterMark, !self.writabilityRecheckPending,
            self.phase != .closed
        {
            // Output paused on the burst budget, not on the socket: ask again after the flush.
            self.writabilityRecheckPending = true
            self.emit(.recheckWritability)
        }
        return self.takeActions()
    }

    private mutating func takeActions() -> [SessionAction] {
        // Handed over whole, and the empty array allocates nothing: `removeAll(keepingCapacity:)`
        // on a buffer the caller now shares would allocate a new one of the same capacity, kept
        // by every idle connection (about 1.1 KiB each in a heaptrack profile, docs/BENCHMARKS.md).
        let taken = self.actions
        self.actions = []
        return taken
    }

    var idleCheckPeriod: Int64 { max(100, min(self.limits.idleTimeoutMilliseconds / 4, 1000)) }

    // MARK: - Phase changes used by the command handlers

    mutating func become(_ phase: Phase) {
        guard self.phase != .closed else { return }
        self.phase = phase
    }

    mutating func bindAccount(_ account: Account) {
        self.account = account
    }

    /// The command that held later frames back is decided: run what was pipelined behind it, in
    /// order, until another one blocks again.
    mutating func unblock(now: Int64) {
        switch self.phase {
        case .authenticating, .opening: self.phase = self.account == nil ? .awaitingAuth : .authenticated
        default: break
        }
        while self.phase == .awaitingAuth || self.phase == .authenticated, let next = self.deferred.popFirst() {
            self.handle(next, now: now)
        }
        self.closeWhenIdleAfterInput()
    }

    /// After end of input: once nothing is deferred or blocking, stop taking commands.
    private mutating func closeWhenIdleAfterInput() {
        guard self.inputEnded, self.deferred.isEmpty else { return }
        if self.phase == .awaitingAuth || self.phase == .authenticated { self.phase = .closing }
    }
}

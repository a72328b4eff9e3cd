import DequeModule
import Foundation
import LiaisonCore
import LiaisonStore
import Logging
import NIOCore
import Postgres

extension ClientSession {
    /// Executes one decoded frame. Every branch produces exactly one reply, now or later.
    func handle(_ frame: InboundFrame) {
        switch frame {
        case .malformed(let error):
            self.send(line: error.replyLine)
        case .publish(let request, let payload):
            self.publish(request, payload: payload)
        case .command(let command):
            self.execute(command)
        }
    }

    private func execute(_ command: ClientCommand) {
        switch command {
        case .auth(let account, let token):
            self.authenticate(account: account, token: token)
        case .publish(let request):
            // The decoder always pairs PUB with its payload; a bare one means a decoder bug.
            self.send(line: ProtocolError(.internal, "PUB \(request.topic) arrived without its payload").replyLine)
        case .subscribe(let request):
            self.subscribe(request)
        case .ack(let sid, let seq):
            guard self.requireAccount() else { return }
            self.acknowledge(sid: sid, seq: seq)
        case .nak(let sid, let seq, let delay):
            guard self.requireAccount() else { return }
            self.negativeAcknowledge(sid: sid, seq: seq, delayMilliseconds: delay)
        case .unsubscribe(let sid):
            guard self.requireAccount() else { return }
            guard self.subscriptions[sid] != nil else { return self.send(line: Self.noSuchSubscription(sid)) }
            self.endSubscription(sid)
            self.send(line: ServerLine.unsubscribed(sid: sid))
        case .ping:
            self.send(line: ServerLine.pong)
        case .pong:
            break
        case .quit:
            self.send(line: ServerLine.bye)
            self.closing = true
            self.closeIfDone()
        }
    }

    private static func noSuchSubscription(_ sid: String) -> String {
        ProtocolError(.notFound, "no subscription \(sid)").replyLine
    }

    /// Answers `ERR 403` and records the refusal as a security event.
    func refuse(_ kind: SecurityEventKind, _ reason: String) {
        self.shared.security.events.record(
            kind,
            account: self.account?.name,
            remote: self.remoteAddress,
            reason: reason
        )
        self.logger.notice("refused: \(reason)")
        self.send(line: ProtocolError(.forbidden, reason).replyLine)
    }

    /// Answers `ERR 401` and returns false when the connection has not authenticated.
    func requireAccount() -> Bool {
        if self.account != nil { return true }
        self.send(line: ProtocolError(.unauthorized, "authenticate first: AUTH <account> <token>").replyLine)
        return false
    }

    /// The command that held later frames back is decided: run what was pipelined behind it, in
    /// order, until another one blocks again.
    func unblock() {
        self.blockingInFlight = false
        while !self.blockingInFlight, !self.closing, let next = self.deferred.popFirst() {
            self.handle(next)
        }
        if self.deferred.isEmpty, !self.readingPausedForPublishes, !self.isClosed, let context = self.context {
            context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
        }
        self.closeIfDone()
        self.flushIfNeeded()
    }

    // MARK: PUB

    private func publish(_ request: PublishRequest, payload: ByteBuffer) {
        guard self.requireAccount(), let account = self.account, let context = self.context else { return }
        if request.headers.contains(where: { $0.0.lowercased().hasPrefix("liaison.") }) {
            return self.send(
                line: ProtocolError(.badRequest, "header keys starting with liaison. are reserved for the server")
                    .replyLine
            )
        }
        let permissions = self.permissions
        guard permissions.mayPublish(request.topic) else {
            return self.refuse(.publishRefused, "account \(account.name) may not publish to \(request.topic)")
        }
        guard permissions.isCleared(for: request.headers.classification) else {
            return self.refuse(
                .publishRefused,
                "account \(account.name) is cleared up to \(permissions.clearance.rawValue), not \(request.headers.classification.rawValue)"
            )
        }
        guard self.shared.security.publishRate.take(account.name, now: Self.monotonicMilliseconds()) else {
            return self.send(
                line: ProtocolError(
                    .tooManyRequests,
                    "publish rate above \(Int(self.shared.limits.publishRatePerSecond))/s for \(account.name): not stored"
                ).replyLine
            )
        }
        let message = NewMessage(
            topic: request.topic,
            account: account.name,
            headers: request.headers,
            payload: Array(payload.readableBytesView)
        )
        let ticket = self.outbound.reserve()
        let session = NIOLoopBound(self, eventLoop: context.eventLoop)
        let bytes = message.payload.count
        self.pendingPublishBytes += bytes
        if self.pendingPublishBytes > self.shared.limits.highWaterMark && !self.readingPausedForPublishes {
            self.readingPausedForPublishes = true
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        }
        self.shared.writer.submit(message, on: context.eventLoop) { result in
            session.value.published(ticket, bytes: bytes, result)
        }
    }

    private func published(
        _ ticket: OutboundQueue.Ticket,
        bytes: Int,
        _ result: Result<GroupCommitWriter.Outcome, StoreError>
    ) {
        self.pendingPublishBytes -= bytes
        if self.readingPausedForPublishes && self.pendingPublishBytes <= self.shared.limits.highWaterMark / 2 {
            self.readingPausedForPublishes = false
            if !self.blockingInFlight && !self.draining {
                self.context?.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
            }
        }
        switch result {
        case .success(let outcome):
            self.shared.counters.add(outcome.duplicate ? \.duplicates : \.published)
            self.fill(ticket, line: ServerLine.published(seq: outcome.seq, duplicate: outcome.duplicate))
        case .failure(let error) where error.code == .unavailable:
            self.shared.counters.add(\.publishFailures)
            self.fill(ticket, line: ProtocolError(.unavailable, "storage unavailable, message not stored").replyLine)
        case .failure:
            self.shared.counters.add(\.publishFailures)
            // The database refused the row: still a storage failure from the client's side.
            self.fill(ticket, line: ProtocolError(.unavailable, "storage refused the message, not stored").replyLine)
        }
        self.flushIfNeeded()
    }

    // MARK: SUB

    private func subscribe(_ request: SubscribeRequest) {
        guard self.requireAccount(), let account = self.account?.name else { return }
        if self.subscriptions[request.sid] != nil {
            return self.send(line: ProtocolError(.conflict, "subscription \(request.sid) exists").replyLine)
        }
        if self.subscriptions.count >= self.shared.limits.maxSubscriptions {
            return self.send(
                line: ProtocolError(
                    .tooManyRequests,
                    "at most \(self.shared.limits.maxSubscriptions) subscriptions per connection"
                ).replyLine
            )
        }
        for (key, _) in request.extra {
            return self.send(line: ProtocolError(.badRequest, "unknown SUB option \(key)").replyLine)
        }
        guard self.permissions.maySubscribe(request.pattern) else {
            return self.refuse(.subscribeRefused, "account \(account) may not read all of \(request.pattern)")
        }
        let limits = self.shared.limits
        let tracker: AckTracker? =
            request.ack == .explicit
            ? AckTracker(
                ackWaitMilliseconds: request.ackWaitMilliseconds ?? limits.ackWaitMilliseconds,
                maxDeliver: request.maxDeliver ?? limits.maxDeliver,
                maxInflight: request.maxInflight ?? limits.maxInflight
            ) : nil
        guard let durable = request.durable else {
            if request.reset {
                return self.send(line: ProtocolError(.badRequest, "reset=true needs durable=<name>").replyLine)
            }
            var replayTime: Date?
            let start: Int64?
            switch request.start {
            case .new: start = nil
            case .all: start = 0
            case .seq(let seq): start = max(0, seq - 1)
            case .time(let time):
                start = 0
                replayTime = time
            }
            return self.activate(request, tracker: tracker, durable: nil, replayAfter: start, replayTime: replayTime)
        }
        guard self.shared.durables.claim(account: account, name: durable) else {
            return self.send(
                line: ProtocolError(.conflict, "durable \(durable) is in use by another connection").replyLine
            )
        }
        self.openDurable(request, durable: durable, account: account, tracker: tracker)
    }

    /// Creates or resumes the durable consumer in the store; later commands wait for the outcome.
    private func openDurable(_ request: SubscribeRequest, durable: String, account: String, tracker: AckTracker?) {
        guard let context = self.context else { return }
        let settings = ConsumerSettings(
            pattern: request.pattern,
            ackMode: request.ack,
            ackWaitMilliseconds: tracker?.ackWaitMilliseconds ?? self.shared.limits.ackWaitMilliseconds,
            maxDeliver: tracker?.maxDeliver ?? self.shared.limits.maxDeliver,
            maxInflight: tracker?.maxInflight ?? self.shared.limits.maxInflight
        )
        let start: StartPosition? = request.startIsExplicit ? request.start : nil
        self.blockingInFlight = true
        let ticket = self.outbound.reserve()
        let loop = context.eventLoop
        let session = NIOLoopBound(self, eventLoop: loop)
        self.shared.readPool.submit(
            { connection in
                try Consumers().open(
                    account: account,
                    name: durable,
                    settings: settings,
                    start: start,
                    reset: request.reset,
                    on: connection
                )
            },
            completion: { result in
                loop.execute {
                    session.value.durableOpened(
                        ticket,
                        request,
                        durable: durable,
                        account: account,
                        tracker: tracker,
                        result.mapError(StoreError.wrap)
                    )
                }
            }
        )
    }

    private func durableOpened(
        _ ticket: OutboundQueue.Ticket,
        _ request: SubscribeRequest,
        durable: String,
        account: String,
        tracker: AckTracker?,
        _ result: Result<ConsumerInfo, StoreError>
    ) {
        defer { self.unblock() }
        switch result {
        case .success(let info):
            guard !self.isClosed, self.context?.channel.isActive == true else {
                return self.shared.durables.release(account: account, name: durable)
            }
            self.logger.info(
                "durable consumer bound",
                metadata: [
                    LogKey.sid: "\(request.sid)", "liaison.durable": "\(durable)", "liaison.floor": "\(info.ackFloor)",
                ]
            )
            self.activate(
                request,
                tracker: tracker,
                durable: durable,
                replayAfter: info.ackFloor,
                replayTime: nil,
                ticket: ticket,
                persisted: (info.ackFloor, info.deliveredSeq)
            )
        case .failure(let error):
            self.shared.durables.release(account: account, name: durable)
            let code: ErrorCode =
                switch error.code {
                case .conflict: .conflict
                case .unavailable: .unavailable
                case .invalid: .badRequest
                default: .internal
                }
            self.fill(ticket, line: ProtocolError(code, error.message).replyLine)
        }
    }

    /// Routes the subscription, answers `OK SUB`, and starts the replay when there is one.
    ///
    /// - Parameters:
    ///   - replayAfter: Exclusive seq to replay from; `nil` for live only (`from=new`).
    ///   - ticket: The reply slot reserved for a durable `SUB`; `nil` to answer now.
    private func activate(
        _ request: SubscribeRequest,
        tracker: AckTracker?,
        durable: String?,
        replayAfter: Int64?,
        replayTime: Date?,
        ticket: OutboundQueue.Ticket? = nil,
        persisted: (floor: Int64, delivered: Int64) = (0, 0)
    ) {
        guard let sink = self.sink, !self.isClosed else { return }
        let id = self.shared.ids.next()
        let budget = self.shared.limits.highWaterMark
        let state =
            replayAfter.map {
                SubscriptionState(
                    sid: request.sid,
                    subscriptionID: id,
                    pattern: request.pattern,
                    replayAfter: $0,
                    holdBudget: budget
                )
            } ?? SubscriptionState(sid: request.sid, subscriptionID: id, pattern: request.pattern, holdBudget: budget)
        var subscription = Subscription(state: state, tracker: tracker, durable: durable)
        subscription.persistedFloor = persisted.floor
        subscription.persistedDelivered = persisted.delivered
        // Route first, read the log second: see SubscriptionState for why this leaves no gap.
        self.subscriptions[request.sid] = subscription
        self.shared.router.subscribe(request.pattern, sid: request.sid, subscriptionID: id, sink: sink)
        self.shared.counters.add(\.subscriptions)
        if let ticket {
            self.fill(ticket, line: ServerLine.subscribed(sid: request.sid))
        } else {
            self.send(line: ServerLine.subscribed(sid: request.sid))
        }
        if tracker != nil || durable != nil { self.ensureAckTimer() }
        if !state.isLive {
            self.readPage(sid: request.sid, subscriptionID: id, after: state.lastDelivered, startingAt: replayTime)
        }
    }
}

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
            guard self.subscriptions[sid] != nil else { return self.send(line: Self.noSuchSubscription(sid)) }
            self.send(line: ServerLine.acknowledged(seq: seq))
        case .unsubscribe(let sid):
            guard self.requireAccount() else { return }
            guard let state = self.subscriptions.removeValue(forKey: sid) else {
                return self.send(line: Self.noSuchSubscription(sid))
            }
            self.shared.router.unsubscribe(state.pattern, subscriptionID: state.subscriptionID)
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

    /// Answers `ERR 401` and returns false when the connection has not authenticated.
    func requireAccount() -> Bool {
        if self.account != nil { return true }
        self.send(line: ProtocolError(.unauthorized, "authenticate first: AUTH <account> <token>").replyLine)
        return false
    }

    // MARK: AUTH

    private func authenticate(account name: String, token: String) {
        if let current = self.account {
            return self.send(line: ProtocolError(.conflict, "already authenticated as \(current.name)").replyLine)
        }
        guard let context = self.context else { return }
        self.authInFlight = true
        let ticket = self.outbound.reserve()
        let loop = context.eventLoop
        let session = NIOLoopBound(self, eventLoop: loop)
        self.shared.readPool.submit(
            { connection in try Credentials().authenticate(account: name, token: token, on: connection) },
            completion: { result in
                loop.execute { session.value.authenticated(ticket, name: name, result.mapError(StoreError.wrap)) }
            }
        )
    }

    private func authenticated(_ ticket: OutboundQueue.Ticket, name: String, _ result: Result<Account?, StoreError>) {
        self.authInFlight = false
        switch result {
        case .success(let account?):
            self.account = account
            self.logger[metadataKey: LogKey.account] = "\(account.name)"
            self.logger.info("authenticated")
            self.fill(ticket, line: ServerLine.authenticated(account: account.name))
        case .success(nil):
            self.logger.notice("authentication failed", metadata: [LogKey.account: "\(name)"])
            self.fill(ticket, line: ProtocolError(.unauthorized, "invalid account or token").replyLine)
        case .failure(let error):
            self.logger.error("authentication could not be checked", metadata: [LogKey.error: "\(error)"])
            self.fill(ticket, line: ProtocolError(.unavailable, "storage unavailable, try again").replyLine)
        }
        // Run what was pipelined behind the AUTH, in order, until another AUTH blocks again.
        while !self.authInFlight, !self.closing, let next = self.deferred.popFirst() {
            self.handle(next)
        }
        if self.deferred.isEmpty, let context = self.context {
            context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
        }
        self.closeIfDone()
        self.flushIfNeeded()
    }

    // MARK: PUB

    private func publish(_ request: PublishRequest, payload: ByteBuffer) {
        guard self.requireAccount(), let account = self.account, let context = self.context else { return }
        let message = NewMessage(
            topic: request.topic,
            account: account.name,
            headers: request.headers,
            payload: Array(payload.readableBytesView)
        )
        let ticket = self.outbound.reserve()
        let session = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.shared.writer.submit(message, on: context.eventLoop) { result in
            session.value.published(ticket, result)
        }
    }

    private func published(_ ticket: OutboundQueue.Ticket, _ result: Result<GroupCommitWriter.Outcome, StoreError>) {
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
        guard self.requireAccount() else { return }
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
        if request.durable != nil || request.ack == .explicit {
            return self.send(
                line: ProtocolError(.badRequest, "durable consumers and ack=explicit are not available yet").replyLine
            )
        }
        guard let sink = self.sink else { return }
        let id = self.shared.ids.next()
        let budget = self.shared.limits.highWaterMark
        let state: SubscriptionState
        var replayTime: Date?
        switch request.start {
        case .new:
            state = SubscriptionState(
                sid: request.sid,
                subscriptionID: id,
                pattern: request.pattern,
                holdBudget: budget
            )
        case .all:
            state = SubscriptionState(
                sid: request.sid,
                subscriptionID: id,
                pattern: request.pattern,
                replayAfter: 0,
                holdBudget: budget
            )
        case .seq(let seq):
            state = SubscriptionState(
                sid: request.sid,
                subscriptionID: id,
                pattern: request.pattern,
                replayAfter: max(0, seq - 1),
                holdBudget: budget
            )
        case .time(let time):
            state = SubscriptionState(
                sid: request.sid,
                subscriptionID: id,
                pattern: request.pattern,
                replayAfter: 0,
                holdBudget: budget
            )
            replayTime = time
        }
        // Route first, read the log second: see SubscriptionState for why this leaves no gap.
        self.subscriptions[request.sid] = state
        self.shared.router.subscribe(request.pattern, sid: request.sid, subscriptionID: id, sink: sink)
        self.send(line: ServerLine.subscribed(sid: request.sid))
        if !state.isLive {
            self.readPage(sid: request.sid, subscriptionID: id, after: state.lastDelivered, startingAt: replayTime)
        }
    }
}

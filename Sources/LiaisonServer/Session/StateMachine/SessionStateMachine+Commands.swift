import LiaisonCore
import LiaisonStore
import NIOCore

extension SessionStateMachine {
    /// Executes one decoded frame. Every branch produces exactly one reply, now or later.
    mutating func handle(_ frame: InboundFrame, now: Int64) {
        switch frame {
        case .malformed(let error):
            self.send(error.replyLine)
        case .publish(let request, let payload):
            self.publish(request, payload: payload, now: now)
        case .command(let command):
            self.execute(command, now: now)
        }
    }

    private mutating func execute(_ command: ClientCommand, now: Int64) {
        switch command {
        case .auth(let account, let token):
            self.authenticate(account: account, token: token, now: now)
        case .publish(let request):
            // The decoder always pairs PUB with its payload; a bare one means a decoder bug.
            self.send(ProtocolError(.internal, "PUB \(request.topic) arrived without its payload").replyLine)
        case .subscribe(let request):
            self.subscribe(request, now: now)
        case .ack(let sid, let seq):
            guard self.requireAccount() else { return }
            self.acknowledge(sid: sid, seq: seq, now: now)
        case .nak(let sid, let seq, let delay):
            guard self.requireAccount() else { return }
            self.negativeAcknowledge(sid: sid, seq: seq, delayMilliseconds: delay, now: now)
        case .unsubscribe(let sid):
            guard self.requireAccount() else { return }
            guard self.subscriptions[sid] != nil else { return self.send(Self.noSuchSubscription(sid)) }
            self.endSubscription(sid)
            self.send(ServerLine.unsubscribed(sid: sid))
        case .ping:
            self.send(ServerLine.pong)
        case .pong:
            break
        case .quit:
            self.send(ServerLine.bye)
            self.become(.closing)
        case .receipts(let seq):
            guard self.requireAccount() else { return }
            self.askReceipts(seq: seq)
        }
    }

    static func noSuchSubscription(_ sid: String) -> String {
        ProtocolError(.notFound, "no subscription \(sid)").replyLine
    }

    /// Answers `ERR 403` and records the refusal as a security event.
    mutating func refuse(_ kind: SecurityEventKind, _ reason: String) {
        self.emit(.securityEvent(kind, account: self.account?.name, reason: reason))
        self.emit(.log(.notice, "refused: \(reason)"))
        self.send(ProtocolError(.forbidden, reason).replyLine)
    }

    /// Answers `ERR 401` and returns false when the connection has not authenticated.
    mutating func requireAccount() -> Bool {
        if self.account != nil { return true }
        self.send(ProtocolError(.unauthorized, "authenticate first: AUTH <account> <token>").replyLine)
        return false
    }

    /// The account's current permissions, role and enabled state (reloaded within a second of an
    /// admin's change); ``Permissions/disabled`` when not authenticated or not loaded.
    var permissions: Permissions {
        guard let name = self.account?.name else { return .disabled }
        return self.policy.permissions(name) ?? .disabled
    }

    // MARK: PUB

    private mutating func publish(_ request: PublishRequest, payload: ByteBuffer, now: Int64) {
        guard self.requireAccount(), let account = self.account else { return }
        if request.headers.contains(where: { $0.0.lowercased().hasPrefix("liaison.") }) {
            return self.send(
                ProtocolError(.badRequest, "header keys starting with liaison. are reserved for the server").replyLine
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
        guard self.policy.takePublishToken(account.name, now: now) else {
            self.emit(.count(.publishRateLimited, 1))
            return self.send(
                ProtocolError(
                    .tooManyRequests,
                    "publish rate above \(Int(self.limits.publishRatePerSecond))/s for \(account.name): not stored"
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
        let bytes = message.payload.count
        self.pendingPublishBytes += bytes
        self.pendingPublishes[ticket.number] = (bytes, now + self.configuration.publishTimeoutMilliseconds)
        if self.pendingPublishBytes > self.limits.highWaterMark { self.publishPaused = true }
        self.emit(.submitPublish(ticket: ticket.number, message))
        // The ack tick answers a publish whose commit does not come back in time.
        self.ensureAckTimer()
    }

    /// The writer answered a publish (or its deadline passed first: then a late answer is dropped).
    ///
    /// - Parameters:
    ///   - ticket: The ticket of ``SessionAction/submitPublish(ticket:_:)``.
    ///   - result: The seq and whether it was a duplicate, or why it was not confirmed.
    ///   - flush: Whether to end with the flush; `false` when more answers of the same batch
    ///     follow and the caller ends them with one ``finish(flush:)`` (one write per batch).
    mutating func published(
        _ ticket: UInt64,
        _ result: Result<GroupCommitWriter.Outcome, PublishFailure>,
        flush: Bool = true
    )
        -> [SessionAction]
    {
        guard let pending = self.pendingPublishes.removeValue(forKey: ticket) else {
            return self.finish(flush: flush)
        }
        self.settlePublishBytes(pending.bytes)
        let slot = OutboundQueue<OutboundFrame>.Ticket(number: ticket)
        switch result {
        case .success(let outcome):
            self.emit(.count(outcome.duplicate ? .duplicates : .published, 1))
            self.fill(slot, ServerLine.published(seq: outcome.seq, duplicate: outcome.duplicate))
        case .failure(let failure):
            self.emit(.count(.publishFailures, 1))
            self.fill(slot, ProtocolError(.unavailable, failure.replyText).replyLine)
        }
        return self.finish(flush: flush)
    }

    private mutating func settlePublishBytes(_ bytes: Int) {
        self.pendingPublishBytes -= bytes
        if self.publishPaused, self.pendingPublishBytes <= self.limits.highWaterMark / 2 { self.publishPaused = false }
    }

    /// Answers `ERR 503` to every publish whose commit did not come back within the publish
    /// timeout (checked on the ack tick and on its own timer).
    mutating func expirePublishes(now: Int64) {
        for (ticket, pending) in self.pendingPublishes where pending.deadline <= now {
            self.pendingPublishes.removeValue(forKey: ticket)
            self.settlePublishBytes(pending.bytes)
            self.emit(.count(.publishFailures, 1))
            self.fill(
                OutboundQueue<OutboundFrame>.Ticket(number: ticket),
                ProtocolError(.unavailable, PublishFailure.timedOut.replyText).replyLine
            )
        }
    }
}

/// Why a publish was not confirmed stored; each says exactly what the client may assume.
enum PublishFailure: Error, Equatable, Sendable {
    /// The database refused or could not be reached before the batch was sent: not stored.
    case notStored(String)
    /// The connection broke or hung while the batch was being committed and the outcome could
    /// not be learned in time: it may be stored (then it is delivered); retry with `id=`.
    case outcomeUnknown
    /// No commit came back within the publish timeout: it may be stored; retry with `id=`.
    case timedOut

    /// The text after `ERR 503`.
    var replyText: String {
        switch self {
        case .notStored(let why): "storage unavailable, message not stored: \(why)"
        case .outcomeUnknown: "storage connection lost during commit, outcome unknown: retry with id="
        case .timedOut: "storage did not confirm in time, outcome unknown: retry with id="
        }
    }
}

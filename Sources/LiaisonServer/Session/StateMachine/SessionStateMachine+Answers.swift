import LiaisonCore
import LiaisonStore

extension SessionStateMachine {
    /// The store answered a ``StoreRequest``.
    mutating func storeAnswered(_ answer: StoreAnswer, now: Int64) -> [SessionAction] {
        guard self.phase != .closed else { return [] }
        switch answer {
        case .authenticated(let account, let result):
            self.authenticated(name: account, result, now: now)
        case .certificate(let account, let result):
            self.certificateChecked(name: account, result, now: now)
        case .consumerOpened(let sid, let result):
            self.consumerOpened(sid: sid, result, now: now)
        case .page(let sid, let subscriptionID, let request, let result):
            self.pageArrived(sid: sid, subscriptionID: subscriptionID, request: request, result, now: now)
        case .redelivery(let sid, let subscriptionID, let deliveries, let result):
            self.redeliveryArrived(sid: sid, subscriptionID: subscriptionID, deliveries: deliveries, result, now: now)
        case .progressRecorded(let result):
            self.progressRecorded(result)
        case .deadLettered(let sid, let subscriptionID, let move, let result):
            self.deadLettered(sid: sid, subscriptionID: subscriptionID, move: move, result, now: now)
        case .replays(let sid, let subscriptionID, let result):
            self.replaysArrived(sid: sid, subscriptionID: subscriptionID, result, now: now)
        case .receipts(let ticket, let seq, let result):
            self.receiptsArrived(ticket: ticket, seq: seq, result)
        }
        return self.finish()
    }

    /// A timer the machine asked for fired.
    mutating func timerFired(_ timer: SessionTimer, now: Int64) -> [SessionAction] {
        guard self.phase != .closed else { return [] }
        switch timer {
        case .auth:
            self.authTimedOut()
        case .authDelay:
            self.authDelayPassed()
        case .idle:
            let timeout = self.limits.idleTimeoutMilliseconds
            // A connection waiting for a reply (a slow AUTH, a publish being committed) is not
            // idle, and one not yet authenticated is the auth timeout's to close.
            if now - self.lastCommandAt >= timeout, self.outbound.waitingCount == 0, self.account != nil {
                self.emit(.log(.notice, "closing connection: idle for \(timeout) ms"))
                self.send(ProtocolError(.badRequest, "idle timeout", closesConnection: true).replyLine)
                self.deferred.removeAll()
                self.become(.closing)
            } else {
                self.emit(.startTimer(.idle, milliseconds: self.idleCheckPeriod))
            }
        case .stall:
            self.stallTimerRunning = false
            guard !self.writable else { break }
            self.emit(
                .log(
                    .notice,
                    "closing connection: reader stalled, nothing read for \(self.limits.stallTimeoutMilliseconds) ms"
                )
            )
            self.emit(.abort)
        case .ackTick:
            self.ackTick(now: now)
        case .retryPage(let subscriptionID):
            self.retryPage(subscriptionID: subscriptionID)
        case .receipts:
            self.flushReceipts(now: now)
        }
        return self.finish()
    }
}

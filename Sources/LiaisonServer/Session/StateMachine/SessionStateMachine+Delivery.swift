import Foundation
import LiaisonCore
import LiaisonStore

extension SessionStateMachine {
    /// Live messages of one committed batch, routed here by the ``Router``.
    ///
    /// - Parameter writable: The socket's writability now (the handler reads it before the call).
    mutating func deliver(_ deliveries: [Delivery], writable: Bool, now: Int64) -> [SessionAction] {
        guard self.phase != .closed else { return [] }
        if writable != self.writable {
            self.writable = writable
            self.burstBytes = 0
        }
        for delivery in deliveries {
            let sid = delivery.sid
            // Read what is needed, then mutate the stored subscription in place: a copy taken out
            // and written back would copy its held messages on every delivery (quadratic).
            guard self.subscriptions[sid]?.subscriptionID == delivery.subscriptionID,
                let wasLive = self.subscriptions[sid]?.state.isLive,
                let capacity = self.subscriptions[sid]?.capacity
            else { continue }
            let message = delivery.message
            if message.headers.priority == .flash, self.writable, !wasLive || capacity == 0 {
                // Flash goes ahead of a backlog or a full in-flight window (and is skipped later).
                if self.subscriptions[sid]!.state.deliverAhead(message) {
                    self.write([message], sid: sid, ahead: true, now: now)
                }
                continue
            }
            let action = self.subscriptions[sid]!.state.live(message, canWrite: self.canWrite && capacity > 0)
            if wasLive && self.subscriptions[sid]?.state.isLive == false {
                self.emit(.count(.catchUps, 1))
                self.emit(
                    .log(
                        .info,
                        "subscription \(sid) behind its reader or its in-flight window: catching up from the log after \(self.subscriptions[sid]!.state.lastDelivered)"
                    )
                )
            }
            self.perform(action, sid: sid, now: now)
        }
        return self.finish()
    }

    mutating func perform(_ action: SubscriptionState.Action, sid: String, now: Int64) {
        switch action {
        case .none:
            return
        case .deliver(let messages):
            self.write(messages, sid: sid, now: now)
        case .deliverThenRead(let messages, let after):
            self.write(messages, sid: sid, now: now)
            guard let subscription = self.subscriptions[sid] else { return }
            if self.canWrite && subscription.capacity > 0 {
                self.requestPage(sid: sid, after: after, startTime: nil)
            } else {
                self.subscriptions[sid]?.state.deferRead()
            }
        }
    }

    /// Queues `MSG` frames, tracking them as in flight for explicit acks.
    ///
    /// - Parameters:
    ///   - ahead: A `prio=flash` message sent ahead of the backlog (`liaison.ahead=1`).
    ///   - redelivery: The delivery count of a redelivery (`liaison.delivery=<n>`), `nil` for a
    ///     first delivery.
    mutating func write(_ messages: [Message], sid: String, ahead: Bool = false, redelivery: Int? = nil, now: Int64) {
        // Defence in depth: whatever routed or read them, only messages the account may read now
        // (rules and clearance, reloaded on change) leave; the others count as passed over.
        let permissions = self.permissions  // one cache look-up per batch, not per message
        var written = 0
        for message in messages {
            guard permissions.mayRead(message.topic) else {
                // Reached in order but withheld (a rule changed): no receipt range may cover it.
                if redelivery == nil, !ahead { self.subscriptions[sid]?.receipts?.passedOver() }
                continue
            }
            guard permissions.isCleared(for: message.headers.classification) else { continue }
            guard let subscription = self.subscriptions[sid] else { return }
            // Set for a message delivered before, counted or not: the client learns it may have
            // seen this one (`liaison.delivery`).
            var count = redelivery
            if redelivery == nil, let tracker = subscription.tracker, let resume = subscription.resume {
                switch resume.verdict(for: message.seq, maxDeliver: tracker.maxDeliver) {
                case .first: break
                case .settled: continue
                case .again(let n): count = n
                case .exhausted(let n):
                    self.subscriptions[sid]!.tracker!.exhausted(
                        seq: message.seq,
                        topic: message.topic.value,
                        deliveries: n,
                        now: now
                    )
                    continue
                }
            }
            var framed = message
            if let count { try? framed.headers.set("liaison.delivery", "\(count)") }
            if ahead { try? framed.headers.set("liaison.ahead", "1") }
            if subscription.tracker != nil, redelivery == nil {
                self.subscriptions[sid]!.tracker!.delivered(
                    seq: message.seq,
                    topic: message.topic.value,
                    now: now,
                    deliveries: count ?? 1
                )
            }
            self.send(message: framed, sid: sid)
            if redelivery == nil {
                self.noteDelivery(seq: message.seq, sid: sid, ahead: ahead, clearance: permissions.clearance, now: now)
            }
            written += 1
        }
        // Once the in-order stream has passed what earlier sessions delivered, the filter is done.
        if let resume = self.subscriptions[sid]?.resume, redelivery == nil, !ahead,
            let last = messages.last, last.seq >= resume.reach
        {
            self.subscriptions[sid]!.resume = nil
        }
        guard written > 0 else { return }
        self.emit(.count(.delivered, written))
        if self.subscriptions[sid]?.tracker != nil || self.subscriptions[sid]?.durable != nil {
            self.ensureAckTimer()
        }
    }

    /// Rows in the first page of a replay (`from=`), at most: a seek's first message then waits
    /// for a few rows to be read, decoded and written rather than for a whole
    /// `limits.replayPageSize` page; the pages after it are full (docs/ARCHITECTURE.md, "Replay").
    static let firstReplayPageSize = 32

    /// Asks the store for the next page of the log for a catching-up subscription, together
    /// with the `prio=flash` messages further on, which go out first.
    ///
    /// - Parameter first: The replay's first page: at most ``firstReplayPageSize`` rows.
    mutating func requestPage(sid: String, after: Int64, startTime: Date?, first: Bool = false) {
        guard let subscription = self.subscriptions[sid] else { return }
        // Messages above the reader's clearance are not even read for it (write() re-checks anyway).
        let request = PageRequest(
            after: after,
            startTime: startTime,
            pattern: subscription.pattern,
            clearance: self.permissions.clearance,
            limit: first ? min(Self.firstReplayPageSize, self.limits.replayPageSize) : self.limits.replayPageSize,
            flashAfter: subscription.state.ahead.max()
        )
        self.emit(.store(.readPage(sid: sid, subscriptionID: subscription.subscriptionID, request)))
    }

    /// A page came back from the log (or the read failed: then it is tried again in a second).
    mutating func pageArrived(
        sid: String,
        subscriptionID: UInt64,
        request: PageRequest,
        _ result: Result<LogPage, StoreError>,
        now: Int64
    ) {
        guard let capacity = self.subscriptions[sid]?.capacity,
            self.subscriptions[sid]?.subscriptionID == subscriptionID
        else { return }
        switch result {
        case .success(let read):
            self.emit(.count(.replayPages, 1))
            // Flash messages go first, flagged as out of order: those inside the page (after its
            // first message) and those the page does not reach yet.
            let pageEnd = read.messages.last?.seq ?? Int64.max
            let isLast = read.messages.count < request.limit
            let inPage = read.messages.dropFirst().filter { $0.headers.priority == .flash }
            let further = isLast ? [] : read.flash.filter { $0.seq > pageEnd }
            var ahead: [Message] = []
            for message in inPage + further {
                if self.subscriptions[sid]!.state.deliverAhead(message) { ahead.append(message) }
            }
            let action = self.subscriptions[sid]!.state.page(
                read.messages,
                isLast: isLast,
                canWrite: true,
                capacity: capacity
            )
            self.write(ahead, sid: sid, ahead: true, now: now)
            self.perform(action, sid: sid, now: now)
        case .failure(let error):
            // The subscription stays registered and held messages keep it whole; retry the same page.
            self.emit(.log(.warning, "replay read for \(sid) failed, retrying in 1 s: \(error)"))
            self.retryPages[subscriptionID] = (sid, request)
            self.emit(.startTimer(.retryPage(subscriptionID: subscriptionID), milliseconds: 1_000))
        }
    }

    /// The retry timer of a failed page read fired.
    mutating func retryPage(subscriptionID: UInt64) {
        guard let retry = self.retryPages.removeValue(forKey: subscriptionID),
            self.subscriptions[retry.sid]?.subscriptionID == subscriptionID
        else { return }
        self.emit(.store(.readPage(sid: retry.sid, subscriptionID: subscriptionID, retry.request)))
    }

    /// The connection drained, or acks made room: subscriptions that paused their catch-up read
    /// their next page.
    mutating func resumeCatchUps(now: Int64) {
        guard self.canWrite else { return }
        for sid in Array(self.subscriptions.keys) {
            guard let capacity = self.subscriptions[sid]?.capacity, capacity > 0 else { continue }
            let action = self.subscriptions[sid]!.state.writable()
            self.perform(action, sid: sid, now: now)
        }
    }
}

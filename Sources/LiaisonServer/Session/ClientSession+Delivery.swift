import Foundation
import LiaisonCore
import LiaisonStore
import Logging
import NIOCore
import Postgres

extension ClientSession {
    /// Live messages of one committed batch, routed here by the ``Router``.
    func deliver(_ deliveries: [Delivery]) {
        guard self.context != nil else { return }
        for delivery in deliveries {
            let sid = delivery.sid
            // Read what is needed, then mutate the stored subscription in place: a copy taken out
            // and written back would copy its held messages on every delivery (quadratic).
            guard self.subscriptions[sid]?.subscriptionID == delivery.subscriptionID,
                let wasLive = self.subscriptions[sid]?.state.isLive,
                let capacity = self.subscriptions[sid]?.capacity
            else { continue }
            let message = delivery.message
            let writable = self.context?.channel.isWritable ?? false
            if message.headers.priority == .flash, writable, !wasLive || capacity == 0 {
                // Flash goes ahead of a backlog or a full in-flight window (and is skipped later).
                if self.subscriptions[sid]!.state.deliverAhead(message) {
                    self.write([message], sid: sid, flags: [("liaison.ahead", "1")])
                }
                continue
            }
            let action = self.subscriptions[sid]!.state.live(message, canWrite: writable && capacity > 0)
            if wasLive && self.subscriptions[sid]?.state.isLive == false {
                self.shared.counters.add(\.catchUps)
                self.logger.info(
                    "subscription behind its reader or its in-flight window: catching up from the log",
                    metadata: [LogKey.sid: "\(sid)", "liaison.seq": "\(self.subscriptions[sid]!.state.lastDelivered)"]
                )
            }
            self.perform(action, sid: sid)
        }
        self.flushIfNeeded()
    }

    /// Whether the connection is below its outbound high-water mark.
    var canWrite: Bool { self.context?.channel.isWritable ?? false }

    func perform(_ action: SubscriptionState.Action, sid: String) {
        switch action {
        case .none:
            return
        case .deliver(let messages):
            self.write(messages, sid: sid)
        case .deliverThenRead(let messages, let after):
            self.write(messages, sid: sid)
            guard let subscription = self.subscriptions[sid] else { return }
            if self.canWrite && subscription.capacity > 0 {
                self.readPage(sid: sid, subscriptionID: subscription.subscriptionID, after: after, startingAt: nil)
            } else {
                self.subscriptions[sid]?.state.deferRead()
            }
        }
    }

    /// Writes `MSG` frames, tracking them as in flight for explicit acks.
    ///
    /// - Parameter flags: Server headers added to each frame (`liaison.delivery=<n>` on a
    ///   redelivery, `liaison.ahead=1` for a flash message sent ahead of the backlog).
    func write(_ messages: [Message], sid: String, flags: [(String, String)] = []) {
        // Defence in depth: whatever routed or read them, only messages the account may read now
        // (rules and clearance, reloaded on change) leave; the others count as passed over.
        let permissions = self.permissions  // one cache look-up per batch, not per message
        let messages = messages.filter {
            permissions.mayRead($0.topic) && permissions.isCleared(for: $0.headers.classification)
        }
        guard let context = self.context, !messages.isEmpty else { return }
        self.shared.counters.add(\.delivered, messages.count)
        let now = Self.monotonicMilliseconds()
        for message in messages {
            var framed = message
            for (key, value) in flags { try? framed.headers.set(key, value) }
            if self.subscriptions[sid]?.tracker != nil, flags.allSatisfy({ $0.0 != "liaison.delivery" }) {
                self.subscriptions[sid]?.tracker?.delivered(seq: message.seq, topic: message.topic.value, now: now)
            }
            var buffer = context.channel.allocator.buffer(capacity: 128 + message.payload.count)
            buffer.writeMessage(sid: sid, message: framed)
            self.send(buffer: buffer)
        }
        if self.subscriptions[sid]?.tracker != nil || self.subscriptions[sid]?.durable != nil {
            self.ensureAckTimer()
        }
    }

    /// Monotonic milliseconds, for ack deadlines.
    static func monotonicMilliseconds() -> Int64 {
        Int64(NIODeadline.now().uptimeNanoseconds / 1_000_000)
    }

    /// Reads the next page of the log for a catching-up subscription on the read pool, together
    /// with the `prio=flash` messages further on, which go out first.
    ///
    /// - Parameters:
    ///   - after: Exclusive lower seq bound.
    ///   - time: For `from=<time>`: find the start seq first, in the same job.
    func readPage(sid: String, subscriptionID: UInt64, after: Int64, startingAt time: Date?) {
        guard let context = self.context, let subscription = self.subscriptions[sid] else { return }
        let pattern = subscription.pattern
        // Messages above the reader's clearance are not even read for it (write() re-checks anyway).
        let clearance = self.permissions.clearance
        let limit = self.shared.limits.replayPageSize
        let loop = context.eventLoop
        let session = NIOLoopBound(self, eventLoop: loop)
        self.shared.readPool.submit(
            { connection -> (flash: [Message], page: [Message]) in
                let log = MessageLog()
                let start = try time.map { try log.seqBefore(time: $0, on: connection) } ?? after
                let flash = try log.flash(
                    after: start,
                    matching: pattern,
                    limit: 64,
                    maxClassification: clearance,
                    on: connection
                )
                let page = try log.read(
                    after: start,
                    matching: pattern,
                    limit: limit,
                    maxClassification: clearance,
                    on: connection
                )
                return (flash, page)
            },
            completion: { result in
                loop.execute {
                    session.value.pageArrived(
                        sid: sid,
                        subscriptionID: subscriptionID,
                        after: after,
                        time: time,
                        result.mapError(StoreError.wrap)
                    )
                }
            }
        )
    }

    private func pageArrived(
        sid: String,
        subscriptionID: UInt64,
        after: Int64,
        time: Date?,
        _ result: Result<(flash: [Message], page: [Message]), StoreError>
    ) {
        guard let capacity = self.subscriptions[sid]?.capacity,
            self.subscriptions[sid]?.subscriptionID == subscriptionID
        else { return }
        switch result {
        case .success(let read):
            self.shared.counters.add(\.replayPages)
            // Flash messages the page does not reach yet go first, flagged as out of order.
            let pageEnd = read.page.last?.seq ?? Int64.max
            let isLast = read.page.count < self.shared.limits.replayPageSize
            var ahead: [Message] = []
            for message in read.flash where !isLast && message.seq > pageEnd {
                if self.subscriptions[sid]!.state.deliverAhead(message) { ahead.append(message) }
            }
            let action = self.subscriptions[sid]!.state.page(
                read.page,
                isLast: isLast,
                canWrite: true,
                capacity: capacity
            )
            self.write(ahead, sid: sid, flags: [("liaison.ahead", "1")])
            self.perform(action, sid: sid)
            self.flushIfNeeded()
        case .failure(let error):
            // The subscription stays registered and held messages keep it whole; retry the same page.
            self.logger.warning(
                "replay read failed, retrying in 1 s",
                metadata: [LogKey.sid: "\(sid)", LogKey.error: "\(error)"]
            )
            guard let context = self.context else { return }
            let session = NIOLoopBound(self, eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: .seconds(1)) {
                session.value.readPage(sid: sid, subscriptionID: subscriptionID, after: after, startingAt: time)
            }
        }
    }

    /// The connection drained, or acks made room: subscriptions that paused their catch-up read
    /// their next page.
    func resumeCatchUps() {
        guard self.canWrite else { return }
        for sid in Array(self.subscriptions.keys) {
            guard let capacity = self.subscriptions[sid]?.capacity, capacity > 0 else { continue }
            let action = self.subscriptions[sid]!.state.writable()
            self.perform(action, sid: sid)
        }
        self.flushIfNeeded()
    }
}

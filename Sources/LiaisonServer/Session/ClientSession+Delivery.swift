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
            guard var state = self.subscriptions[delivery.sid], state.subscriptionID == delivery.subscriptionID else {
                continue
            }
            let wasLive = state.isLive
            let action = state.live(delivery.message, canWrite: self.canWrite)
            self.subscriptions[delivery.sid] = state
            if wasLive && !state.isLive {
                self.shared.counters.add(\.catchUps)
                self.logger.info(
                    "subscriber reads slower than messages arrive: catching up from the log",
                    metadata: [LogKey.sid: "\(delivery.sid)", "liaison.seq": "\(state.lastDelivered)"]
                )
            }
            self.perform(action, sid: delivery.sid)
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
            guard let state = self.subscriptions[sid] else { return }
            if self.canWrite {
                self.readPage(sid: sid, subscriptionID: state.subscriptionID, after: after, startingAt: nil)
            } else {
                self.subscriptions[sid]?.deferRead()
            }
        }
    }

    private func write(_ messages: [Message], sid: String) {
        guard let context = self.context, !messages.isEmpty else { return }
        self.shared.counters.add(\.delivered, messages.count)
        for message in messages {
            var buffer = context.channel.allocator.buffer(capacity: 96 + message.payload.count)
            buffer.writeMessage(sid: sid, message: message)
            self.send(buffer: buffer)
        }
    }

    /// Reads the next page of the log for a catching-up subscription on the read pool.
    ///
    /// - Parameters:
    ///   - after: Exclusive lower seq bound.
    ///   - time: For `from=<time>`: find the start seq first, in the same job.
    func readPage(sid: String, subscriptionID: UInt64, after: Int64, startingAt time: Date?) {
        guard let context = self.context, let state = self.subscriptions[sid] else { return }
        let pattern = state.pattern
        let limit = self.shared.limits.replayPageSize
        let loop = context.eventLoop
        let session = NIOLoopBound(self, eventLoop: loop)
        self.shared.readPool.submit(
            { connection -> [Message] in
                let log = MessageLog()
                let start = try time.map { try log.seqBefore(time: $0, on: connection) } ?? after
                return try log.read(after: start, matching: pattern, limit: limit, on: connection)
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
        _ result: Result<[Message], StoreError>
    ) {
        guard var state = self.subscriptions[sid], state.subscriptionID == subscriptionID else { return }
        switch result {
        case .success(let page):
            self.shared.counters.add(\.replayPages)
            let action = state.page(page, isLast: page.count < self.shared.limits.replayPageSize, canWrite: true)
            self.subscriptions[sid] = state
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

    /// The connection drained: subscriptions that paused their catch-up read their next page.
    func resumeCatchUps() {
        for sid in Array(self.subscriptions.keys) {
            guard var state = self.subscriptions[sid] else { continue }
            let action = state.writable()
            self.subscriptions[sid] = state
            self.perform(action, sid: sid)
        }
        self.flushIfNeeded()
    }
}

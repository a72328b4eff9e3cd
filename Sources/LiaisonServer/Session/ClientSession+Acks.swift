import Foundation
import LiaisonCore
import LiaisonStore
import Logging
import NIOCore
import Postgres

extension ClientSession {
    /// How often the ack timer looks for due messages, in milliseconds.
    static let ackTickMilliseconds: Int64 = 100
    /// Every this many ticks, durable consumers look for dead letters an admin asked to replay.
    static let replayCheckTicks = 20

    /// `ACK <sid> <seq>`: settles an in-flight message; acks of unknown seqs are answered too (an
    /// ack may race its own redelivery or repeat after a reconnect).
    func acknowledge(sid: String, seq: Int64) {
        // In place: a copy would duplicate the in-flight table on every ACK.
        guard let hadRoom = self.subscriptions[sid].map({ $0.capacity > 0 }) else {
            return self.send(line: ProtocolError(.notFound, "no subscription \(sid)").replyLine)
        }
        self.subscriptions[sid]!.tracker?.ack(seq: seq)
        self.send(line: ServerLine.acknowledged(seq: seq))
        if !hadRoom && self.subscriptions[sid]!.capacity > 0 { self.resumeCatchUps() }
    }

    /// `NAK <sid> <seq> [delay=<ms>]`: redeliver sooner than the ack wait.
    func negativeAcknowledge(sid: String, seq: Int64, delayMilliseconds: Int64) {
        guard let explicit = self.subscriptions[sid].map({ $0.tracker != nil }) else {
            return self.send(line: ProtocolError(.notFound, "no subscription \(sid)").replyLine)
        }
        guard explicit else {
            return self.send(line: ProtocolError(.conflict, "subscription \(sid) does not use ack=explicit").replyLine)
        }
        let known = self.subscriptions[sid]!.tracker!.nak(
            seq: seq,
            delayMilliseconds: delayMilliseconds,
            now: Self.monotonicMilliseconds()
        )
        guard known else {
            return self.send(line: ProtocolError(.notFound, "seq \(seq) is not in flight on \(sid)").replyLine)
        }
        self.send(line: "OK NAK \(seq)")
    }

    /// Starts the session's ack timer once it has something to watch.
    func ensureAckTimer() {
        guard self.ackTimer == nil, let context = self.context else { return }
        let session = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.ackTimer = context.eventLoop.scheduleRepeatedTask(
            initialDelay: .milliseconds(Self.ackTickMilliseconds),
            delay: .milliseconds(Self.ackTickMilliseconds)
        ) { _ in
            session.value.ackTick()
        }
    }

    /// Redeliveries, dead letters, requested replays and durable progress, once per tick.
    private func ackTick() {
        self.ackTicks += 1
        let now = Self.monotonicMilliseconds()
        for sid in Array(self.subscriptions.keys) {
            guard self.subscriptions[sid]?.tracker != nil || self.subscriptions[sid]?.durable != nil else { continue }
            if self.subscriptions[sid]!.tracker != nil {
                let (redeliver, deadLetter) = self.subscriptions[sid]!.tracker!.takeDue(now: now)
                let subscription = self.subscriptions[sid]!
                if !redeliver.isEmpty { self.redeliver(redeliver, sid: sid) }
                if !deadLetter.isEmpty { self.deadLetter(deadLetter, subscription: subscription) }
                if !deadLetter.isEmpty && subscription.capacity > 0 { self.resumeCatchUps() }
                if subscription.durable != nil && self.ackTicks % Self.replayCheckTicks == 0 {
                    self.takeReplays(sid: sid)
                }
            }
            if self.subscriptions[sid]?.progressIsDirty == true { self.persistProgress(sid: sid) }
        }
    }

    /// Reads the due messages again and sends them flagged with their delivery count.
    private func redeliver(_ due: [AckTracker.Due], sid: String) {
        guard let context = self.context, let subscriptionID = self.subscriptions[sid]?.subscriptionID else { return }
        let seqs = due.map(\.seq)
        let counts = Dictionary(uniqueKeysWithValues: due.map { ($0.seq, $0.deliveries) })
        let session = NIOLoopBound(self, eventLoop: context.eventLoop)
        let loop = context.eventLoop
        self.shared.readPool.submit(
            { connection in try MessageLog().fetch(seqs: seqs, on: connection) },
            completion: { result in
                loop.execute {
                    let session = session.value
                    guard session.subscriptions[sid]?.subscriptionID == subscriptionID else { return }
                    guard case .success(let messages) = result else {
                        // The deadlines were renewed: the next expiry tries again.
                        return session.logger.warning("redelivery read failed", metadata: [LogKey.sid: "\(sid)"])
                    }
                    session.shared.counters.add(\.redelivered, messages.count)
                    for message in messages {
                        session.write(
                            [message],
                            sid: sid,
                            flags: [("liaison.delivery", "\(counts[message.seq] ?? 2)")]
                        )
                    }
                    session.flushIfNeeded()
                }
            }
        )
    }

    /// Records messages that reached `max_deliver` (durable consumers keep a dead-letter row).
    private func deadLetter(_ due: [AckTracker.Due], subscription: Subscription) {
        self.shared.counters.add(\.deadLettered, due.count)
        self.logger.warning(
            "messages reached max_deliver: dead-lettered",
            metadata: [LogKey.sid: "\(subscription.sid)", "liaison.seqs": "\(due.map(\.seq))"]
        )
        guard let durable = subscription.durable, let account = self.account?.name else { return }
        let reason = "no ACK after \(due.first?.deliveries ?? 0) deliveries"
        self.shared.readPool.submit(
            { connection in
                for item in due {
                    try Consumers().deadLetter(
                        account: account,
                        name: durable,
                        seq: item.seq,
                        topic: item.topic,
                        deliveries: item.deliveries,
                        reason: reason,
                        on: connection
                    )
                }
            },
            completion: { [logger = self.logger] result in
                if case .failure(let error) = result {
                    logger.error("dead letter not recorded", metadata: [LogKey.error: "\(error)"])
                }
            }
        )
    }

    /// Delivers dead letters an admin asked to replay (`liaisonctl deadletter replay`).
    private func takeReplays(sid: String) {
        guard let context = self.context, let subscription = self.subscriptions[sid],
            let durable = subscription.durable, let account = self.account?.name
        else { return }
        let subscriptionID = subscription.subscriptionID
        let session = NIOLoopBound(self, eventLoop: context.eventLoop)
        let loop = context.eventLoop
        self.shared.readPool.submit(
            { connection -> [Message] in
                let seqs = try Consumers().takeReplays(account: account, name: durable, on: connection)
                return seqs.isEmpty ? [] : try MessageLog().fetch(seqs: seqs, on: connection)
            },
            completion: { result in
                loop.execute {
                    let session = session.value
                    guard session.subscriptions[sid]?.subscriptionID == subscriptionID,
                        case .success(let messages) = result, !messages.isEmpty
                    else { return }
                    session.logger.info("replaying dead letters", metadata: [LogKey.sid: "\(sid)"])
                    session.write(messages, sid: sid, flags: [("liaison.replay", "1")])
                    session.flushIfNeeded()
                }
            }
        )
    }

    /// Writes a durable consumer's ack floor and delivered seq to the store.
    func persistProgress(sid: String) {
        guard let durable = self.subscriptions[sid]?.durable, let account = self.account?.name,
            let floor = self.subscriptions[sid]?.ackFloor, let delivered = self.subscriptions[sid]?.state.lastDelivered
        else { return }
        self.subscriptions[sid]!.persistedFloor = max(self.subscriptions[sid]!.persistedFloor, floor)
        self.subscriptions[sid]!.persistedDelivered = max(self.subscriptions[sid]!.persistedDelivered, delivered)
        Self.storeProgress(account: account, durable: durable, floor: floor, delivered: delivered, shared: self.shared)
    }

    /// The store write itself; also used after the connection closed, when the session is gone.
    static func storeProgress(account: String, durable: String, floor: Int64, delivered: Int64, shared: SessionContext)
    {
        shared.readPool.submit(
            { connection in
                try Consumers().recordProgress(
                    account: account,
                    name: durable,
                    ackFloor: floor,
                    deliveredSeq: delivered,
                    on: connection
                )
            },
            completion: { [logger = shared.logger] result in
                if case .failure(let error) = result {
                    // Not fatal: the floor only lags, so a restart redelivers a little more.
                    logger.warning("durable progress not saved", metadata: [LogKey.error: "\(error)"])
                }
            }
        )
    }
}

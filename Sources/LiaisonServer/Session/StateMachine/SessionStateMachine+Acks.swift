import LiaisonCore
import LiaisonStore

extension SessionStateMachine {
    /// `ACK <sid> <seq>`.
    ///
    /// - `ack=explicit`: settles that one message; acks of unknown seqs are answered too (an ack
    ///   may race its own redelivery or repeat after a reconnect).
    /// - durable `ack=auto`: cumulative, confirms every seq ≤ `seq` the subscription delivered in
    ///   order; the consumer's position moves only on this, and the reply names the position
    ///   reached (docs/PROTOCOL.md, "ACK").
    /// - non-durable `ack=auto`: answered, changes nothing.
    mutating func acknowledge(sid: String, seq: Int64, now: Int64) {
        // In place: a copy would duplicate the in-flight table on every ACK.
        guard let hadRoom = self.subscriptions[sid].map({ $0.capacity > 0 }) else {
            return self.send(Self.noSuchSubscription(sid))
        }
        var answered = seq
        if self.subscriptions[sid]!.tracker != nil {
            if self.subscriptions[sid]!.tracker!.ack(seq: seq) { self.noteAck(seq: seq, sid: sid, now: now) }
        } else if self.subscriptions[sid]!.durable != nil {
            let delivered = self.subscriptions[sid]!.state.lastDelivered
            self.subscriptions[sid]!.confirmed = max(self.subscriptions[sid]!.confirmed, min(seq, delivered))
            // The position it really stands at, so a client can see a confirm that went further
            // than this connection delivered in order (e.g. right after a reconnect).
            answered = self.subscriptions[sid]!.confirmed
        }
        self.send(ServerLine.acknowledged(seq: answered))
        if !hadRoom && self.subscriptions[sid]!.capacity > 0 { self.resumeCatchUps(now: now) }
    }

    /// `NAK <sid> <seq> [delay=<ms>]`: redeliver sooner than the ack wait.
    mutating func negativeAcknowledge(sid: String, seq: Int64, delayMilliseconds: Int64, now: Int64) {
        guard let explicit = self.subscriptions[sid].map({ $0.tracker != nil }) else {
            return self.send(Self.noSuchSubscription(sid))
        }
        guard explicit else {
            return self.send(ProtocolError(.conflict, "subscription \(sid) does not use ack=explicit").replyLine)
        }
        guard self.subscriptions[sid]!.tracker!.nak(seq: seq, delayMilliseconds: delayMilliseconds, now: now) else {
            return self.send(ProtocolError(.notFound, "seq \(seq) is not in flight on \(sid)").replyLine)
        }
        self.send("OK NAK \(seq)")
    }

    /// Starts the session's ack timer once it has something to watch.
    mutating func ensureAckTimer() {
        guard !self.ackTimerRunning, self.phase != .closed else { return }
        self.ackTimerRunning = true
        self.emit(.startTimer(.ackTick, milliseconds: Self.ackTickMilliseconds))
    }

    /// The ack timer fired: publishes past their deadline, redeliveries, dead letters, requested
    /// replays and durable progress; then it runs again.
    mutating func ackTick(now: Int64) {
        self.ackTimerRunning = false
        guard self.phase != .closed else { return }
        self.ackTicks += 1
        self.expirePublishes(now: now)
        var progress: [ConsumerProgress] = []
        for sid in Array(self.subscriptions.keys) {
            guard let subscription = self.subscriptions[sid] else { continue }
            if subscription.tracker != nil {
                let (redeliver, deadLetter) = self.subscriptions[sid]!.tracker!.takeDue(now: now)
                if !redeliver.isEmpty {
                    self.emit(
                        .store(
                            .redeliver(
                                sid: sid,
                                subscriptionID: subscription.subscriptionID,
                                seqs: redeliver.map(\.seq),
                                deliveries: Dictionary(uniqueKeysWithValues: redeliver.map { ($0.seq, $0.deliveries) })
                            )
                        )
                    )
                }
                if !deadLetter.isEmpty { self.moveToDeadLetters(deadLetter, sid: sid) }
                if subscription.durable != nil, self.ackTicks % Self.replayCheckTicks == 0,
                    let account = self.account?.name
                {
                    self.emit(
                        .store(
                            .takeReplays(
                                sid: sid,
                                subscriptionID: subscription.subscriptionID,
                                account: account,
                                consumer: subscription.durable!
                            )
                        )
                    )
                }
            }
            if !self.progressInFlight, let account = self.account?.name,
                let record = self.subscriptions[sid]!.takeProgress(account: account)
            {
                progress.append(record)
            }
        }
        if !progress.isEmpty {
            self.progressInFlight = true
            self.emit(.store(.recordProgress(progress)))
        }
        if !self.subscriptions.isEmpty || !self.pendingPublishes.isEmpty { self.ensureAckTimer() }
    }

    /// Messages that reached `max_deliver`: a durable consumer moves them to the dead letters in
    /// the store (they hold the floor until it confirmed); a non-durable one drops them.
    private mutating func moveToDeadLetters(_ due: [AckTracker.Due], sid: String) {
        guard let subscription = self.subscriptions[sid] else { return }
        self.emit(.log(.warning, "messages \(due.map(\.seq)) of \(sid) reached max_deliver: dead-lettered"))
        guard let durable = subscription.durable, let account = self.account?.name else {
            self.emit(.count(.deadLettered, due.count))
            self.subscriptions[sid]!.tracker!.deadLettered(due.map(\.seq))
            return
        }
        let floor = subscription.tracker!.ackFloor(
            lastDelivered: subscription.state.lastDelivered,
            without: due.map(\.seq)
        )
        let move = DeadLetterMove(
            account: account,
            consumer: durable,
            letters: due.map { .init(seq: $0.seq, topic: $0.topic, deliveries: $0.deliveries) },
            reason: "no ACK after \(due.first?.deliveries ?? 0) deliveries",
            ackFloor: floor
        )
        self.emit(.store(.deadLetter(sid: sid, subscriptionID: subscription.subscriptionID, move)))
    }

    /// The store answered a dead-letter move.
    mutating func deadLettered(
        sid: String,
        subscriptionID: UInt64,
        move: DeadLetterMove,
        _ result: Result<Void, StoreError>,
        now: Int64
    ) {
        guard self.subscriptions[sid]?.subscriptionID == subscriptionID else { return }
        let seqs = move.letters.map(\.seq)
        switch result {
        case .success:
            self.emit(.count(.deadLettered, seqs.count))
            self.subscriptions[sid]!.tracker?.deadLettered(seqs)
            self.subscriptions[sid]!.persistedFloor = max(self.subscriptions[sid]!.persistedFloor, move.ackFloor)
            if self.subscriptions[sid]!.capacity > 0 { self.resumeCatchUps(now: now) }
        case .failure(let error):
            self.emit(.log(.error, "dead letters \(seqs) of \(sid) not recorded, retrying: \(error)"))
            self.subscriptions[sid]!.tracker?.deadLetterFailed(seqs, now: now)
        }
    }

    /// Messages read again for redelivery (after their ack wait or a `NAK`).
    mutating func redeliveryArrived(
        sid: String,
        subscriptionID: UInt64,
        deliveries: [Int64: Int],
        _ result: Result<[Message], StoreError>,
        now: Int64
    ) {
        guard self.subscriptions[sid]?.subscriptionID == subscriptionID else { return }
        guard case .success(let messages) = result else {
            // The deadlines were renewed: the next expiry tries again.
            return self.emit(.log(.warning, "redelivery read for \(sid) failed"))
        }
        self.emit(.count(.redelivered, messages.count))
        for message in messages {
            self.write([message], sid: sid, redelivery: deliveries[message.seq] ?? 2, now: now)
        }
    }

    /// Dead letters an admin asked to replay: delivered again as first deliveries.
    mutating func replaysArrived(
        sid: String,
        subscriptionID: UInt64,
        _ result: Result<[Message], StoreError>,
        now: Int64
    ) {
        guard self.subscriptions[sid]?.subscriptionID == subscriptionID, case .success(let messages) = result,
            !messages.isEmpty
        else { return }
        self.emit(.count(.redelivered, messages.count))
        let permissions = self.permissions
        for message in messages
        where permissions.mayRead(message.topic) && permissions.isCleared(for: message.headers.classification) {
            self.subscriptions[sid]!.tracker?.delivered(
                seq: message.seq,
                topic: message.topic.value,
                now: now,
                replay: true
            )
            var framed = message
            try? framed.headers.set("liaison.replay", "1")
            self.send(message: framed, sid: sid)
        }
    }

    /// The store answered a progress record.
    mutating func progressRecorded(_ result: Result<Void, StoreError>) {
        self.progressInFlight = false
        for sid in Array(self.subscriptions.keys) where self.subscriptions[sid]!.recording != nil {
            switch result {
            case .success: self.subscriptions[sid]!.progressRecorded()
            case .failure: self.subscriptions[sid]!.progressFailed()
            }
        }
        if case .failure(let error) = result {
            self.emit(.log(.warning, "durable progress not recorded, retrying: \(error)"))
        }
    }
}

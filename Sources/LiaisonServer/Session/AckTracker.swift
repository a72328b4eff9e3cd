/// Explicit-ack bookkeeping for one subscription: what is in flight, when it is due again, how
/// often it was delivered, and the ack floor. No I/O; times are monotonic milliseconds.
///
/// The shape follows JetStream's consumer state (pending set, delivery counts, ack floor): a
/// message stays in flight from its delivery until `ACK`; past its deadline (the ack wait, or a
/// `NAK` delay) it is due for redelivery, and after `maxDeliver` deliveries it moves to the dead
/// letters. A message on its way to the dead letters stays in flight (holding the floor) until
/// the store confirmed the move, so the floor never passes a message that is nowhere.
struct AckTracker {
    struct Entry: Equatable {
        var topic: String
        var deliveries: Int
        var deadline: Int64
        /// Handed to the store as a dead letter; not due again unless the move fails.
        var movingToDeadLetters = false
        /// When this connection last delivered it, as a serial that grows with each delivery, for
        /// ``returnedUncounted()``; `nil` when its count is not this connection's to keep: an
        /// earlier session's message that used up `maxDeliver` and only waits for its move, an
        /// admin's replay of a dead letter, a message the client handed back with `NAK`.
        var delivery: UInt64?
        /// An admin's replay of a dead letter (`liaison.replay=1`): never a candidate of
        /// ``returnedUncounted()``, redelivered or not (its count is not kept: it is below the floor).
        var replay = false
    }

    /// A message whose deadline passed.
    struct Due: Equatable {
        var seq: Int64
        var topic: String
        /// The delivery count including the one about to happen (redelivery), or the count
        /// reached (dead letter).
        var deliveries: Int
    }

    let ackWaitMilliseconds: Int64
    let maxDeliver: Int
    let maxInflight: Int
    private(set) var inflight: [Int64: Entry] = [:]
    /// Delivery counts changed since the last ``takeChanges()`` (seq → deliveries).
    private var changed: [Int64: Int] = [:]
    /// Seqs acknowledged since the last ``takeChanges()``.
    private var settled: Set<Int64> = []
    /// The serial of the next delivery (``Entry/delivery``).
    private var nextDelivery: UInt64 = 0

    init(ackWaitMilliseconds: Int64, maxDeliver: Int, maxInflight: Int) {
        self.ackWaitMilliseconds = ackWaitMilliseconds
        self.maxDeliver = maxDeliver
        self.maxInflight = maxInflight
    }

    /// How many more messages may be delivered before the window is full.
    var capacity: Int { max(0, self.maxInflight - self.inflight.count) }

    /// The highest seq such that every message at or below it is settled, given that the
    /// subscription has delivered everything matching up to `lastDelivered` in seq order.
    func ackFloor(lastDelivered: Int64) -> Int64 {
        guard let lowest = self.inflight.keys.min() else { return lastDelivered }
        return min(lastDelivered, lowest - 1)
    }

    /// A delivery went out: the first (`deliveries` 1), a dead letter's replay (`replay`), or for
    /// a rebound consumer the next of a count its earlier sessions started.
    mutating func delivered(seq: Int64, topic: String, now: Int64, deliveries: Int = 1, replay: Bool = false) {
        self.inflight[seq] = Entry(
            topic: topic,
            deliveries: deliveries,
            deadline: now + self.ackWaitMilliseconds,
            delivery: replay ? nil : self.takeDeliverySerial(),
            replay: replay
        )
        self.changed[seq] = deliveries
        self.settled.remove(seq)
    }

    private mutating func takeDeliverySerial() -> UInt64 {
        defer { self.nextDelivery += 1 }
        return self.nextDelivery
    }

    /// A rebound consumer's message that used up `maxDeliver` earlier: due for the dead letters now.
    mutating func exhausted(seq: Int64, topic: String, deliveries: Int, now: Int64) {
        self.inflight[seq] = Entry(
            topic: topic,
            deliveries: max(deliveries, self.maxDeliver),
            deadline: now,
            delivery: nil
        )
    }

    /// The connection (or the subscription) ends with messages in flight: which deliveries go
    /// uncounted towards `maxDeliver`.
    ///
    /// The message this connection delivered first of those in flight keeps its count: a
    /// consumer that crashes on a message every time stops at that one (a `prio=flash` message
    /// sent ahead of lower seqs included), and must end with it in the dead letters. Every later
    /// one was delivered behind it, and nothing says the client ever got to it; counting those
    /// too would use up `maxDeliver` for a whole in-flight window on a link that drops a few
    /// times (or behind one poison message), and send healthy messages to the dead letters.
    /// Messages without a ``Entry/delivery`` serial are neither the first nor returned.
    ///
    /// - Returns: seq → the count its last delivery raised it to; the store records each one
    ///   lower (0: delivered once, not counted), unless a later delivery raised it meanwhile.
    func returnedUncounted() -> [Int64: Int] {
        let candidates = self.inflight.filter { $0.value.delivery != nil && !$0.value.movingToDeadLetters }
        guard let first = candidates.min(by: { $0.value.delivery! < $1.value.delivery! })?.key else { return [:] }
        var returned: [Int64: Int] = [:]
        for (seq, entry) in candidates where seq != first && entry.deliveries > 0 {
            returned[seq] = entry.deliveries
        }
        return returned
    }

    /// `ACK`: settles the message. Returns whether it was in flight (and not on its way to the
    /// dead letters, which an ACK no longer stops).
    @discardableResult
    mutating func ack(seq: Int64) -> Bool {
        guard let entry = self.inflight[seq], !entry.movingToDeadLetters else { return false }
        self.inflight.removeValue(forKey: seq)
        self.changed.removeValue(forKey: seq)
        self.settled.insert(seq)
        return true
    }

    /// `NAK`: makes the message due after `delay` milliseconds. Returns whether it was in flight.
    mutating func nak(seq: Int64, delayMilliseconds: Int64, now: Int64) -> Bool {
        guard let entry = self.inflight[seq], !entry.movingToDeadLetters else { return false }
        self.inflight[seq]!.deadline = now + delayMilliseconds
        // The client got this one and handed it back: a crash after it is not this message's.
        self.inflight[seq]!.delivery = nil
        return true
    }

    /// Takes what is due at `now`: messages to redeliver (their count raised, deadline renewed)
    /// and messages that reached `maxDeliver` (marked as moving: they stay in flight until
    /// ``deadLettered(_:)`` or ``deadLetterFailed(_:now:)``).
    mutating func takeDue(now: Int64) -> (redeliver: [Due], deadLetter: [Due]) {
        var redeliver: [Due] = []
        var deadLetter: [Due] = []
        for (seq, entry) in self.inflight where entry.deadline <= now && !entry.movingToDeadLetters {
            if entry.deliveries >= self.maxDeliver {
                deadLetter.append(Due(seq: seq, topic: entry.topic, deliveries: entry.deliveries))
                self.inflight[seq]!.movingToDeadLetters = true
            } else {
                let count = entry.deliveries + 1
                self.inflight[seq] = Entry(
                    topic: entry.topic,
                    deliveries: count,
                    deadline: now + self.ackWaitMilliseconds,
                    replay: entry.replay
                )
                self.changed[seq] = count
                redeliver.append(Due(seq: seq, topic: entry.topic, deliveries: count))
            }
        }
        redeliver.sort { $0.seq < $1.seq }
        deadLetter.sort { $0.seq < $1.seq }
        // The redeliveries go out in seq order, behind everything delivered before.
        for due in redeliver where !self.inflight[due.seq]!.replay {
            self.inflight[due.seq]!.delivery = self.takeDeliverySerial()
        }
        return (redeliver, deadLetter)
    }

    /// The floor if these moving messages were settled (recorded with their move).
    func ackFloor(lastDelivered: Int64, without seqs: [Int64]) -> Int64 {
        var copy = self
        for seq in seqs { copy.inflight.removeValue(forKey: seq) }
        return copy.ackFloor(lastDelivered: lastDelivered)
    }

    /// The store moved these messages to the dead letters (and their pending rows away).
    mutating func deadLettered(_ seqs: [Int64]) {
        for seq in seqs {
            self.inflight.removeValue(forKey: seq)
            self.changed.removeValue(forKey: seq)
        }
    }

    /// The move failed: try again after a second.
    mutating func deadLetterFailed(_ seqs: [Int64], now: Int64) {
        for seq in seqs where self.inflight[seq] != nil {
            self.inflight[seq]!.movingToDeadLetters = false
            self.inflight[seq]!.deadline = now + 1_000
        }
    }

    /// Takes the changes to record: delivery counts of unsettled messages, and settled seqs.
    mutating func takeChanges() -> (deliveries: [Int64: Int], settled: [Int64]) {
        defer {
            self.changed.removeAll()
            self.settled.removeAll()
        }
        return (self.changed.filter { self.inflight[$0.key] != nil }, self.settled.sorted())
    }

    /// Puts back changes whose recording failed (newer changes win).
    mutating func restoreChanges(deliveries: [Int64: Int], settled: [Int64]) {
        for (seq, count) in deliveries where self.inflight[seq] != nil && self.changed[seq] == nil {
            self.changed[seq] = count
        }
        for seq in settled where self.inflight[seq] == nil { self.settled.insert(seq) }
    }
}

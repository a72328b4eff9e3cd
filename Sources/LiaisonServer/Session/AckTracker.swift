/// Explicit-ack bookkeeping for one subscription: what is in flight, when it is due again, how
/// often it was delivered, and the ack floor. No I/O; times are monotonic milliseconds.
///
/// The shape follows JetStream's consumer state (pending set, delivery counts, ack floor): a
/// message stays in flight from its delivery until `ACK`; past its deadline (the ack wait, or a
/// `NAK` delay) it is due for redelivery, and after `maxDeliver` deliveries it is dead-lettered.
struct AckTracker {
    struct Entry: Equatable {
        var topic: String
        var deliveries: Int
        var deadline: Int64
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

    /// A first delivery (or a dead letter's replay) went out.
    mutating func delivered(seq: Int64, topic: String, now: Int64) {
        self.inflight[seq] = Entry(topic: topic, deliveries: 1, deadline: now + self.ackWaitMilliseconds)
    }

    /// `ACK`: settles the message. Returns whether it was in flight.
    @discardableResult
    mutating func ack(seq: Int64) -> Bool {
        self.inflight.removeValue(forKey: seq) != nil
    }

    /// `NAK`: makes the message due after `delay` milliseconds. Returns whether it was in flight.
    mutating func nak(seq: Int64, delayMilliseconds: Int64, now: Int64) -> Bool {
        guard self.inflight[seq] != nil else { return false }
        self.inflight[seq]!.deadline = now + delayMilliseconds
        return true
    }

    /// Takes what is due at `now`: messages to redeliver (their count raised, deadline renewed)
    /// and messages that reached `maxDeliver` (removed: they go to the dead letters).
    mutating func takeDue(now: Int64) -> (redeliver: [Due], deadLetter: [Due]) {
        var redeliver: [Due] = []
        var deadLetter: [Due] = []
        for (seq, entry) in self.inflight where entry.deadline <= now {
            if entry.deliveries >= self.maxDeliver {
                deadLetter.append(Due(seq: seq, topic: entry.topic, deliveries: entry.deliveries))
                self.inflight.removeValue(forKey: seq)
            } else {
                let count = entry.deliveries + 1
                self.inflight[seq] = Entry(
                    topic: entry.topic,
                    deliveries: count,
                    deadline: now + self.ackWaitMilliseconds
                )
                redeliver.append(Due(seq: seq, topic: entry.topic, deliveries: count))
            }
        }
        redeliver.sort { $0.seq < $1.seq }
        deadLetter.sort { $0.seq < $1.seq }
        return (redeliver, deadLetter)
    }
}

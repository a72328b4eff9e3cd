import LiaisonCore
import LiaisonStore

/// One subscription of a connection: its delivery state, and for explicit acks and durable
/// consumers the bookkeeping that goes with them.
struct Subscription {
    /// Live or catching up; the seq delivered so far.
    var state: SubscriptionState
    /// In-flight messages, for `ack=explicit`; `nil` for `ack=auto`.
    var tracker: AckTracker?
    /// The durable consumer's name, for `durable=`.
    var durable: String?
    /// For a durable `ack=auto` consumer: the highest seq the client confirmed with a cumulative
    /// `ACK` (docs/PROTOCOL.md, "Acknowledgement"); its position never moves past this.
    var confirmed: Int64 = 0
    /// For a rebound `ack=explicit` consumer: which messages of its earlier sessions are still
    /// unsettled, until the replay passes them.
    var resume: ResumeFilter?
    /// The ack floor and delivered seq last written to the store (durable only).
    var persistedFloor: Int64 = 0
    var persistedDelivered: Int64 = 0
    /// A progress record taken and not yet confirmed written (merged back if it fails).
    var recording: ConsumerProgress?
    /// Receipt ranges not yet handed over (`nil` when receipts are off).
    var receipts: ReceiptLedger?

    var sid: String { self.state.sid }
    var subscriptionID: UInt64 { self.state.subscriptionID }
    var pattern: TopicPattern { self.state.pattern }

    /// How many more messages may go out now under the in-flight window.
    var capacity: Int { self.tracker?.capacity ?? Int.max }

    /// Where the consumer stands: everything matching at or below it is settled (explicit acks)
    /// or confirmed by the client (durable `ack=auto`).
    var ackFloor: Int64 {
        if let tracker { return tracker.ackFloor(lastDelivered: self.state.lastDelivered) }
        return self.durable == nil ? self.state.lastDelivered : min(self.confirmed, self.state.lastDelivered)
    }

    /// The progress to record now, or `nil` when the store already has it. Taking it clears the
    /// tracker's pending changes; ``progressRecorded(_:)`` or ``progressFailed()`` settles it.
    ///
    /// - Parameter ending: The subscription ends now: the deliveries in flight behind the oldest
    ///   go uncounted (``AckTracker/returnedUncounted()``).
    mutating func takeProgress(account: String, ending: Bool = false) -> ConsumerProgress? {
        guard let durable = self.durable else { return nil }
        let floor = self.ackFloor
        let delivered = self.state.lastDelivered
        let returned = ending ? self.tracker?.returnedUncounted() ?? [:] : [:]
        let changes: (deliveries: [Int64: Int], settled: [Int64]) = self.tracker?.takeChanges() ?? ([:], [])
        guard
            floor > self.persistedFloor || delivered > self.persistedDelivered || !changes.deliveries.isEmpty
                || !changes.settled.isEmpty || !returned.isEmpty
        else { return nil }
        let progress = ConsumerProgress(
            account: account,
            name: durable,
            ackFloor: floor,
            deliveredSeq: delivered,
            deliveries: changes.deliveries,
            settled: changes.settled,
            returned: returned
        )
        self.recording = progress
        return progress
    }

    /// The store has the progress taken last.
    mutating func progressRecorded() {
        guard let recording = self.recording else { return }
        self.recording = nil
        self.persistedFloor = max(self.persistedFloor, recording.ackFloor)
        self.persistedDelivered = max(self.persistedDelivered, recording.deliveredSeq)
    }

    /// Writing the progress taken last failed: its changes are recorded with the next one.
    mutating func progressFailed() {
        guard let recording = self.recording else { return }
        self.recording = nil
        self.tracker?.restoreChanges(deliveries: recording.deliveries, settled: recording.settled)
    }
}

/// What a rebound `ack=explicit` consumer knows of its earlier sessions (from the store): seqs
/// above the floor up to ``deliveredSeq`` were delivered; those in ``pending`` are unsettled,
/// with their delivery counts, the others were acknowledged or dead-lettered. `pending` may hold
/// seqs above ``deliveredSeq``: `prio=flash` messages sent ahead of the in-order stream.
struct ResumeFilter: Equatable {
    var deliveredSeq: Int64
    var pending: [Int64: Int]

    /// The highest seq the earlier sessions delivered; the filter is done once the in-order
    /// stream passed it.
    var reach: Int64 { max(self.deliveredSeq, self.pending.keys.max() ?? 0) }

    /// What to do with a message the replay reaches again.
    enum Verdict: Equatable {
        /// Deliver it for the first time.
        case first
        /// Deliver it again: this will be delivery number `n`.
        case again(Int)
        /// It used up `max_deliver` in earlier sessions: to the dead letters with this count.
        case exhausted(Int)
        /// Already settled: pass over it.
        case settled
    }

    func verdict(for seq: Int64, maxDeliver: Int) -> Verdict {
        // Pending first: a flash message sent ahead is pending above deliveredSeq, and delivering
        // it as a first would start its count again in every session (a poison one would
        // crash-loop its consumer forever, never dead-lettered).
        if let count = self.pending[seq] { return count >= maxDeliver ? .exhausted(count) : .again(count + 1) }
        return seq <= self.deliveredSeq ? .settled : .first
    }
}

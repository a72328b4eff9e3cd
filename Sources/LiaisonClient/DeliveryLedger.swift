/// What a ``Follower`` has handed to the application, and what it still has to confirm.
///
/// A value type without I/O: the driver feeds it each message from the server and the current
/// time, and it answers whether the message is new or a duplicate, when a cumulative confirm is
/// due and for which seq, and where a non-durable subscription resumes.
///
/// The **in-order position** is the highest seq handed out among messages *without*
/// `liaison.ahead=1`. The server delivers the in-order stream in seq order without gaps, so every
/// message of the subscription at or below the position has been handed out, and a cumulative
/// `ACK` of the position skips nothing. An ahead message (`prio=flash` sent before a backlog) may
/// be far above the position; it is remembered in a set until the position passes it, and never
/// raises the position itself.
///
/// A cumulative confirm carries the **confirmable** seq: the in-order position, but no higher
/// than the highest in-order seq the *current* connection delivered (handed out or a duplicate).
/// After a reconnect the server resumes after its own, older floor and caps an `ACK` at what it
/// has delivered in order on the new connection, so a confirm of the whole position sent while
/// the new link still redelivers would be cut down without a word, and nothing handed out after
/// it would raise the position again. Counting the redelivered duplicates instead confirms the
/// position step by step as the new link catches up, and a clean stop confirms it all.
struct DeliveryLedger: Sendable, Equatable {
    /// What to do with a message from the server.
    enum Verdict: Sendable, Equatable {
        /// A message not handed out before: hand it to the application.
        case deliver
        /// Handed out before in this process: drop it. `reacknowledge` is `true` when the
        /// application already acknowledged it (`ack=explicit`), so the driver should `ACK` it again
        /// on the current connection; the server's redelivery shows that the earlier `ACK` was lost.
        case duplicate(reacknowledge: Bool)
    }

    /// The confirm schedule.
    let policy: ConfirmPolicy
    /// The in-order position, or `nil` before the first in-order message.
    private(set) var position: Int64?
    /// The highest in-order seq received on the current connection, handed out or not; `nil`
    /// before its first one.
    private(set) var linkPosition: Int64?
    /// Ahead seqs handed out that the position has not passed yet.
    private(set) var ahead: Set<Int64> = []
    /// Seqs the application acknowledged (`ack=explicit`), at most ``acknowledgedLimit`` of them.
    private(set) var acknowledged: Set<Int64> = []
    /// The last cumulative confirm sent on the current connection.
    private(set) var confirmed: Int64?
    /// In-order messages that raised ``confirmable`` since the last confirm.
    private(set) var unconfirmedCount = 0
    /// When ``confirmable`` first moved past ``confirmed``; `nil` when nothing is unconfirmed.
    private(set) var unconfirmedSince: ContinuousClock.Instant?

    /// How many acknowledged seqs are remembered; past it the lowest half is forgotten.
    static let acknowledgedLimit = 10_000

    /// Creates an empty ledger.
    ///
    /// - Parameter policy: When confirms are due.
    init(policy: ConfirmPolicy) {
        self.policy = policy
    }

    /// Judges one message from the server and records it when it is new.
    ///
    /// - Parameters:
    ///   - seq: The message's seq.
    ///   - isAhead: Whether it carries `liaison.ahead=1`.
    ///   - now: The current time, which starts the confirm interval.
    /// - Returns: Whether to hand the message out.
    mutating func receive(seq: Int64, isAhead: Bool, at now: ContinuousClock.Instant) -> Verdict {
        let seen = seq <= (self.position ?? 0) || self.ahead.contains(seq)
        if !isAhead {
            self.advance(to: seq, at: now)
        }
        if seen {
            return .duplicate(reacknowledge: self.acknowledged.contains(seq))
        }
        if isAhead {
            self.ahead.insert(seq)
        }
        return .deliver
    }

    /// Records that the application acknowledged `seq`, so a redelivery of it is acknowledged again.
    ///
    /// - Parameter seq: The acknowledged seq.
    mutating func acknowledge(_ seq: Int64) {
        self.acknowledged.insert(seq)
        if self.acknowledged.count > Self.acknowledgedLimit {
            let kept = self.acknowledged.sorted().suffix(Self.acknowledgedLimit / 2)
            self.acknowledged = Set(kept)
        }
    }

    /// The seq a cumulative confirm may carry: the in-order position, capped at the connection's
    /// ``linkPosition``; `nil` while either is unknown.
    var confirmable: Int64? {
        guard let position = self.position, let link = self.linkPosition else { return nil }
        return min(position, link)
    }

    /// The seq to confirm now, or `nil` when no confirm is due: ``ConfirmPolicy/every`` in-order
    /// messages since the last confirm, or ``ConfirmPolicy/interval`` since the first of them.
    ///
    /// - Parameter now: The current time.
    /// - Returns: ``confirmable``: never an ahead seq above the position, nor a seq the current
    ///   connection has not delivered in order.
    func confirmDue(at now: ContinuousClock.Instant) -> Int64? {
        guard let deadline = self.confirmDeadline, let seq = self.confirmable else {
            return nil
        }
        return self.unconfirmedCount >= max(1, self.policy.every) || now >= deadline ? seq : nil
    }

    /// When the pending confirm falls due by time, or `nil` when nothing is unconfirmed.
    var confirmDeadline: ContinuousClock.Instant? {
        self.unconfirmedSince.map { $0.advanced(by: self.policy.interval) }
    }

    /// The seq a last confirm should carry (on a clean stop): ``confirmable``, when it is past the
    /// last confirm.
    var finalConfirm: Int64? {
        guard let seq = self.confirmable, seq > (self.confirmed ?? 0) else {
            return nil
        }
        return seq
    }

    /// Records that a cumulative confirm of `seq` was sent.
    ///
    /// - Parameter seq: The confirmed seq.
    mutating func confirmSent(_ seq: Int64) {
        self.confirmed = max(seq, self.confirmed ?? seq)
        if let confirmable = self.confirmable, confirmable <= seq {
            self.unconfirmedCount = 0
            self.unconfirmedSince = nil
        }
    }

    /// Records a new subscribed connection: whether the old one delivered its confirms is unknown,
    /// so nothing counts as confirmed, and the position becomes confirmable again as the new
    /// connection delivers in order (the server resumes after its floor, redelivering what lies
    /// between it and the position).
    mutating func reconnected() {
        self.confirmed = nil
        self.linkPosition = nil
        self.unconfirmedCount = 0
        self.unconfirmedSince = nil
    }

    /// The `from=` seq that resumes a non-durable subscription after what was handed out, or `nil`
    /// before the first in-order message.
    var resumeSeq: Int64? {
        self.position.map { $0 + 1 }
    }

    /// Raises the position and the link's position to an in-order `seq` (either may already be
    /// past it), and counts the message as unconfirmed when that raised ``confirmable``.
    private mutating func advance(to seq: Int64, at now: ContinuousClock.Instant) {
        let before = self.confirmable
        if seq > (self.position ?? 0) {
            self.position = seq
            if !self.ahead.isEmpty {
                self.ahead = self.ahead.filter { $0 > seq }
            }
        }
        self.linkPosition = max(seq, self.linkPosition ?? seq)
        guard let after = self.confirmable, after > (before ?? 0), after > (self.confirmed ?? 0) else { return }
        self.unconfirmedCount += 1
        if self.unconfirmedSince == nil {
            self.unconfirmedSince = now
        }
    }
}

import LiaisonCore

/// One subscription's delivery state: live, or catching up from the log. No I/O.
///
/// A subscription is registered with the router before its first replay query, so every message
/// committed after that query's snapshot also reaches it live; live messages that arrive while it
/// catches up are held (up to a byte budget) and delivered after the last page, skipping any seq
/// already delivered. When the budget overflows they are dropped and one more round of pages
/// reads them from the log instead: nothing is lost, nothing is delivered twice, order holds
/// (invariants 2 and 5 of docs/ARCHITECTURE.md).
///
/// The held messages are a stored array mutated in place (never an enum payload taken out and put
/// back), so holding n messages costs O(n), not O(n²) copies.
struct SubscriptionState {
    /// What the session must do next.
    enum Action: Equatable {
        /// Nothing.
        case none
        /// Write these messages, in order.
        case deliver([Message])
        /// Ask the log for the next page after this seq (`deliver` the given messages first).
        case deliverThenRead([Message], after: Int64)
    }

    let sid: String
    let subscriptionID: UInt64
    let pattern: TopicPattern
    /// The highest seq delivered (or the exclusive start bound before any delivery).
    private(set) var lastDelivered: Int64
    /// Live: messages are written as they commit. Otherwise the subscription catches up from the log.
    private(set) var isLive: Bool
    /// Live messages held while catching up, ascending, and their payload bytes.
    private var held: [Message] = []
    private var heldBytes = 0
    /// Held messages were dropped (budget, or a pause): another round of pages must read them.
    private var overflowed = false
    /// A page request is outstanding.
    private(set) var reading = false
    /// Budget in payload bytes for live messages held during catch-up.
    let holdBudget: Int
    /// Seqs above ``lastDelivered`` already delivered ahead of order (`prio=flash`).
    private(set) var ahead: Set<Int64> = []

    /// A subscription that only takes messages committed from now on (`from=new`).
    init(sid: String, subscriptionID: UInt64, pattern: TopicPattern, holdBudget: Int) {
        self.sid = sid
        self.subscriptionID = subscriptionID
        self.pattern = pattern
        self.lastDelivered = 0
        self.isLive = true
        self.holdBudget = holdBudget
    }

    /// A subscription that first replays the log after `afterSeq`, then goes live.
    ///
    /// - Returns: The state; the caller starts by reading a page after `afterSeq`.
    init(sid: String, subscriptionID: UInt64, pattern: TopicPattern, replayAfter afterSeq: Int64, holdBudget: Int) {
        self.sid = sid
        self.subscriptionID = subscriptionID
        self.pattern = pattern
        self.lastDelivered = afterSeq
        self.isLive = false
        self.reading = true
        self.holdBudget = holdBudget
    }

    /// Stops holding: what was held must be read from the log again.
    private mutating func dropHeld() {
        self.held.removeAll()
        self.heldBytes = 0
        self.overflowed = true
    }

    /// Switches to catching up, paused until ``writable()``.
    private mutating func pause() {
        self.isLive = false
        self.reading = false
        self.dropHeld()
    }

    /// A message committed and routed to this subscription.
    ///
    /// - Parameter canWrite: Whether the connection can take more output now (below its
    ///   high-water mark, and room in the in-flight window). When it cannot, a live subscription
    ///   switches to catching up.
    mutating func live(_ message: Message, canWrite: Bool) -> Action {
        if self.isLive {
            guard message.seq > self.lastDelivered else { return .none }
            if self.ahead.remove(message.seq) != nil {
                self.lastDelivered = message.seq
                return .none
            }
            guard canWrite else {
                // Slow reader: stop taking live messages and read from the log once it drains.
                self.pause()
                return .none
            }
            self.lastDelivered = message.seq
            return .deliver([message])
        }
        guard !self.overflowed else { return .none }
        if self.heldBytes + message.payload.count > self.holdBudget {
            self.dropHeld()
        } else {
            self.held.append(message)
            self.heldBytes += message.payload.count
        }
        return .none
    }

    /// The connection drained below its low-water mark (or acks made room): resume reading
    /// pages if one is due.
    mutating func writable() -> Action {
        guard !self.isLive, !self.reading else { return .none }
        // The read starts now, so it sees everything dropped so far: only later drops need another.
        self.reading = true
        self.overflowed = false
        return .deliverThenRead([], after: self.lastDelivered)
    }

    /// The connection went over its high-water mark right after a page: read the next page only
    /// once it drains (``writable()``).
    mutating func deferRead() {
        guard !self.isLive, self.reading else { return }
        self.reading = false
    }

    /// A page came back from the log.
    ///
    /// - Parameters:
    ///   - page: Messages after the requested seq, ascending.
    ///   - isLast: The page was shorter than asked: the log had nothing more at that moment.
    ///   - canWrite: Whether the connection is below its high-water mark after writing this page.
    ///   - capacity: How many messages the subscription may still put in flight (explicit acks);
    ///     when it runs out, reading pauses until ``writable()`` is called after acks.
    mutating func page(_ page: [Message], isLast: Bool, canWrite: Bool, capacity: Int = .max) -> Action {
        guard !self.isLive else { return .none }
        var out: [Message] = []
        out.reserveCapacity(min(page.count, capacity))
        for message in page where message.seq > self.lastDelivered && self.pattern.matches(message.topic) {
            guard self.take(message, into: &out, capacity: capacity) else {
                // The in-flight window is full: the rest is read again once acks make room.
                self.pause()
                return .deliver(out)
            }
        }
        if !isLast || self.overflowed {
            // More in the log (or held messages were dropped): read again, now or once drained.
            guard canWrite else {
                self.pause()
                return .deliver(out)
            }
            self.reading = true
            self.overflowed = false
            return .deliverThenRead(out, after: self.lastDelivered)
        }
        let held = self.held
        self.held.removeAll()
        self.heldBytes = 0
        for message in held where message.seq > self.lastDelivered {
            guard self.take(message, into: &out, capacity: capacity) else {
                self.pause()
                return .deliver(out)
            }
        }
        self.isLive = true
        self.reading = false
        return .deliver(out)
    }

    /// Adds the next in-order message to `out`, or skips it if it went ahead already.
    ///
    /// - Returns: False when `out` is at `capacity` (nothing taken).
    private mutating func take(_ message: Message, into out: inout [Message], capacity: Int) -> Bool {
        if self.ahead.remove(message.seq) != nil {
            self.lastDelivered = message.seq
            return true
        }
        guard out.count < capacity else { return false }
        out.append(message)
        self.lastDelivered = message.seq
        return true
    }

    /// A `prio=flash` message that should not wait behind the backlog (or a full in-flight
    /// window): delivered now, out of order, and skipped when the in-order stream reaches it.
    ///
    /// - Returns: Whether to deliver it now (false when it was already delivered).
    mutating func deliverAhead(_ message: Message) -> Bool {
        guard message.seq > self.lastDelivered, !self.ahead.contains(message.seq) else { return false }
        self.ahead.insert(message.seq)
        return true
    }
}

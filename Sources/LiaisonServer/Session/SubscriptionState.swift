import LiaisonCore

/// One subscription's delivery state: live, or catching up from the log. No I/O.
///
/// A subscription is registered with the router before its first replay query, so every message
/// committed after that query's snapshot also reaches it live; live messages that arrive while it
/// catches up are held (up to a byte budget) and delivered after the last page, skipping any seq
/// already delivered. When the budget overflows they are dropped and one more round of pages
/// reads them from the log instead: nothing is lost, nothing is delivered twice, order holds
/// (DESIGN.md invariants 2 and 5).
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

    enum Mode: Equatable {
        case live
        /// `reading` is true while a page request is outstanding.
        case catchingUp(held: [Message], heldBytes: Int, overflowed: Bool, reading: Bool)
    }

    let sid: String
    let subscriptionID: UInt64
    let pattern: TopicPattern
    /// The highest seq delivered (or the exclusive start bound before any delivery).
    private(set) var lastDelivered: Int64
    private(set) var mode: Mode
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
        self.mode = .live
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
        self.mode = .catchingUp(held: [], heldBytes: 0, overflowed: false, reading: true)
        self.holdBudget = holdBudget
    }

    var isLive: Bool { self.mode == .live }

    /// A message committed and routed to this subscription.
    ///
    /// - Parameter canWrite: Whether the connection can take more output now (below its
    ///   high-water mark). When it cannot, a live subscription switches to catching up.
    mutating func live(_ message: Message, canWrite: Bool) -> Action {
        switch self.mode {
        case .live:
            guard message.seq > self.lastDelivered else { return .none }
            if self.ahead.remove(message.seq) != nil {
                self.lastDelivered = message.seq
                return .none
            }
            guard canWrite else {
                // Slow reader: stop taking live messages and read from the log once it drains.
                self.mode = .catchingUp(held: [], heldBytes: 0, overflowed: true, reading: false)
                return .none
            }
            self.lastDelivered = message.seq
            return .deliver([message])
        case .catchingUp(var held, var bytes, let overflowed, let reading):
            guard !overflowed else { return .none }
            bytes += message.payload.count
            if bytes > self.holdBudget {
                self.mode = .catchingUp(held: [], heldBytes: 0, overflowed: true, reading: reading)
            } else {
                held.append(message)
                self.mode = .catchingUp(held: held, heldBytes: bytes, overflowed: false, reading: reading)
            }
            return .none
        }
    }

    /// The connection drained below its low-water mark: resume reading pages if one is due.
    mutating func writable() -> Action {
        guard case .catchingUp(let held, let bytes, _, false) = self.mode else { return .none }
        // The read starts now, so it sees everything dropped so far: only later drops need another.
        self.mode = .catchingUp(held: held, heldBytes: bytes, overflowed: false, reading: true)
        return .deliverThenRead([], after: self.lastDelivered)
    }

    /// The connection went over its high-water mark right after a page: read the next page only
    /// once it drains (``writable()``).
    mutating func deferRead() {
        guard case .catchingUp(let held, let bytes, let overflowed, true) = self.mode else { return }
        self.mode = .catchingUp(held: held, heldBytes: bytes, overflowed: overflowed, reading: false)
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
        guard case .catchingUp(let held, let bytes, let overflowed, _) = self.mode else { return .none }
        var out: [Message] = []
        out.reserveCapacity(min(page.count, capacity))
        var full = false
        for message in page where message.seq > self.lastDelivered && self.pattern.matches(message.topic) {
            if self.ahead.remove(message.seq) != nil {
                self.lastDelivered = message.seq
                continue
            }
            guard out.count < capacity else {
                full = true
                break
            }
            out.append(message)
            self.lastDelivered = message.seq
        }
        if full {
            // The in-flight window is full: the rest is read again once acks make room.
            self.mode = .catchingUp(held: [], heldBytes: 0, overflowed: true, reading: false)
            return .deliver(out)
        }
        if !isLast || overflowed {
            // More in the log (or held messages were dropped): read again, now or once drained.
            guard canWrite else {
                self.mode = .catchingUp(held: [], heldBytes: 0, overflowed: true, reading: false)
                return .deliver(out)
            }
            self.mode = .catchingUp(held: held, heldBytes: bytes, overflowed: false, reading: true)
            return .deliverThenRead(out, after: self.lastDelivered)
        }
        for message in held where message.seq > self.lastDelivered {
            if self.ahead.remove(message.seq) != nil {
                self.lastDelivered = message.seq
                continue
            }
            guard out.count < capacity else {
                self.mode = .catchingUp(held: [], heldBytes: 0, overflowed: true, reading: false)
                return .deliver(out)
            }
            out.append(message)
            self.lastDelivered = message.seq
        }
        self.mode = .live
        return .deliver(out)
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

import LiaisonCore
import LiaisonStore

/// One subscription's receipts as seq ranges, without I/O: deliveries and acks in, closed ranges
/// out (docs/AUDIT.md, "Receipts").
///
/// A subscription's first deliveries in order are its matching seqs ascending without gaps
/// (``SubscriptionState``: the replay → live seam is gapless), so one open range
/// `[firstSeq, lastSeq]` with its first and last times stands for every message it delivered in
/// that span. What breaks that claim closes the range:
/// - a matching message passed over without delivery (its topic no longer readable by the
///   account's rules): ``passedOver()``; the next range does not ``Span/follows`` this one;
/// - a change of clearance (ranges carry the clearance they were delivered under).
/// A `prio=flash` message sent ahead of order gets a range of its own when sent; the in-order
/// range later extends over it (it was delivered earlier, so the claim stays true, and the
/// earliest covering range gives its time). Redeliveries are not receipts.
///
/// Acks (durable consumers only): the ack floor's movement `old+1 … new` is one range, timed from
/// when the floor was last observed to now; explicit `ACK`s above the floor are ranges of their
/// own, extended while nothing in flight lies between consecutive acks. Times are monotonic ms.
struct ReceiptLedger: Equatable {
    /// What a span records and how the recorder may merge it.
    enum Kind: Equatable, Sendable {
        /// First deliveries in seq order.
        case inOrder
        /// A flash message delivered ahead of order.
        case ahead
        /// The ack floor moved over these seqs.
        case floor
        /// Explicit `ACK`s above the floor.
        case explicitAck
    }

    /// A closed range.
    struct Span: Equatable, Sendable {
        var kind: Kind
        var firstSeq: Int64
        var lastSeq: Int64
        /// Monotonic milliseconds.
        var firstAt: Int64
        var lastAt: Int64
        var clearance: Classification
        /// Nothing that this range's kind should cover lies between the previous span of the same
        /// kind and this one: merging the two (under back-pressure) keeps the claim true.
        var follows: Bool

        var event: ReceiptEvent { self.kind == .inOrder || self.kind == .ahead ? .delivered : .acked }

        /// A span of one seq at one time.
        static func one(_ kind: Kind, seq: Int64, clearance: Classification, now: Int64, follows: Bool) -> Span {
            Span(
                kind: kind,
                firstSeq: seq,
                lastSeq: seq,
                firstAt: now,
                lastAt: now,
                clearance: clearance,
                follows: follows
            )
        }
    }

    private var delivering: Span?
    /// The next in-order span follows the previous one (false at the start and after a gap).
    private var continuous = false
    private var acking: Span?
    /// The ack floor already recorded (every seq at or below it is covered by floor spans, or was
    /// settled before this subscription started).
    private(set) var recordedFloor: Int64
    private var floorObservedAt: Int64
    private var closed: [Span] = []
    /// The latest time seen, for closing without a clock (the connection went away).
    private(set) var lastNow: Int64

    /// - Parameters:
    ///   - floor: The durable consumer's ack floor when bound (0 for a plain subscription).
    ///   - now: Monotonic ms.
    init(floor: Int64, now: Int64) {
        self.recordedFloor = floor
        self.floorObservedAt = now
        self.lastNow = now
    }

    /// Whether a range is open or closed ones wait to be taken.
    var isEmpty: Bool { self.delivering == nil && self.acking == nil && self.closed.isEmpty }

    /// A first delivery in seq order.
    mutating func delivered(seq: Int64, clearance: Classification, now: Int64) {
        self.lastNow = max(self.lastNow, now)
        if var open = self.delivering, open.clearance == clearance, seq > open.lastSeq {
            open.lastSeq = seq
            open.lastAt = max(open.lastAt, now)
            self.delivering = open
            return
        }
        if self.delivering != nil {
            // Another clearance: ranges of different clearances are never merged.
            self.closeDelivering()
            self.continuous = false
        }
        self.delivering = Span.one(.inOrder, seq: seq, clearance: clearance, now: now, follows: self.continuous)
    }

    /// A flash message sent ahead of the in-order stream.
    mutating func deliveredAhead(seq: Int64, clearance: Classification, now: Int64) {
        self.lastNow = max(self.lastNow, now)
        self.closed.append(
            Span.one(.ahead, seq: seq, clearance: clearance, now: now, follows: false)
        )
    }

    /// A message the in-order stream reached but did not deliver: no range may cover it.
    mutating func passedOver() {
        self.closeDelivering()
        self.continuous = false
    }

    /// An explicit `ACK` of a message above the ack floor.
    ///
    /// - Parameter extends: Nothing in flight lies between the open ack range's last seq and
    ///   `seq`, and everything below `seq` was delivered (the caller knows its tracker).
    mutating func acknowledged(seq: Int64, clearance: Classification, extends: Bool, now: Int64) {
        self.lastNow = max(self.lastNow, now)
        guard seq > self.recordedFloor else { return }
        if var open = self.acking, extends, seq > open.lastSeq, open.clearance == clearance {
            open.lastSeq = seq
            open.lastAt = max(open.lastAt, now)
            self.acking = open
            return
        }
        if let open = self.acking { self.closed.append(open) }
        self.acking = Span.one(.explicitAck, seq: seq, clearance: clearance, now: now, follows: false)
    }

    /// The open explicit-ack range's last seq, if any (for the caller's `extends` check).
    var openAckEnd: Int64? { self.acking?.lastSeq }

    /// The durable consumer's ack floor as it is now: its movement becomes a range.
    mutating func observeFloor(_ floor: Int64, clearance: Classification, now: Int64) {
        self.lastNow = max(self.lastNow, now)
        defer { self.floorObservedAt = self.lastNow }
        guard floor > self.recordedFloor else { return }
        self.closed.append(
            Span(
                kind: .floor,
                firstSeq: self.recordedFloor + 1,
                lastSeq: floor,
                firstAt: min(self.floorObservedAt, self.lastNow),
                lastAt: self.lastNow,
                clearance: clearance,
                follows: true
            )
        )
        self.recordedFloor = floor
    }

    /// Closes the open ranges and hands over everything closed, in the order it closed.
    mutating func take() -> [Span] {
        self.closeDelivering()
        if let open = self.acking {
            self.closed.append(open)
            self.acking = nil
        }
        defer { self.closed.removeAll() }
        return self.closed
    }

    private mutating func closeDelivering() {
        guard let open = self.delivering else { return }
        self.closed.append(open)
        self.delivering = nil
        // The next in-order range starts right after this one unless a gap is reported.
        self.continuous = true
    }
}

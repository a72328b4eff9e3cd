import LiaisonStore

/// Who a subscription's receipt ranges are about: fixed for the subscription's life.
struct ReceiptIdentity: Equatable, Sendable {
    /// The daemon-wide subscription serial (merging never crosses subscriptions).
    var subscriptionID: UInt64
    var account: String
    /// The durable consumer's name, `nil` for a plain subscription.
    var consumer: String?
    /// `c<connection id>/<ip:port>`, the connection id as in the daemon's log lines.
    var connection: String
    var sid: String
    var pattern: String
}

/// Closed spans of one subscription, as the session hands them over.
struct ReceiptBatch: Equatable, Sendable {
    var identity: ReceiptIdentity
    var spans: [ReceiptLedger.Span]
}

/// The ranges waiting to be written, in memory bounded by subscriptions, not by messages: a value
/// type, no I/O (``ReceiptRecorder`` drives it).
///
/// While the database is down, a subscription's next in-order delivery range (or ack floor range)
/// that ``ReceiptLedger/Span/follows`` the one still queued widens that one instead of queuing
/// another, which keeps the claim true (nothing the range should not cover lies between) and only
/// coarsens its times. Past ``capacity`` entries what cannot be merged is dropped and counted.
struct ReceiptQueue {
    struct Entry: Equatable {
        var key: MergeKey?
        var range: ReceiptRange
        /// As given to ``ReceiptQueue/add(_:key:follows:)``: relative to the previous range of the key.
        var follows: Bool
    }

    /// Ranges of one subscription and kind that may widen each other.
    struct MergeKey: Hashable {
        var subscriptionID: UInt64
        var kind: ReceiptLedger.Kind
    }

    /// At most this many ranges wait.
    let capacity: Int
    private(set) var entries: [Entry] = []
    /// Where the last mergeable range of each key is in ``entries``.
    private var last: [MergeKey: Int] = [:]
    /// Ranges dropped because the queue was full, since the start.
    private(set) var dropped = 0

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    var isEmpty: Bool { self.entries.isEmpty }

    /// Queues one range, widening the queued one it follows when it can.
    ///
    /// - Parameters:
    ///   - follows: Nothing this kind of range should not cover lies between the previous range of
    ///     the key and this one.
    mutating func add(_ range: ReceiptRange, key: MergeKey?, follows: Bool) {
        if let key, follows, let index = self.last[key], self.entries[index].range.clearance == range.clearance,
            self.entries[index].range.lastSeq < range.firstSeq
        {
            self.entries[index].range.lastSeq = range.lastSeq
            self.entries[index].range.lastAt = max(self.entries[index].range.lastAt, range.lastAt)
            return
        }
        guard self.entries.count < self.capacity else {
            self.dropped += 1
            return
        }
        if let key { self.last[key] = self.entries.count }
        self.entries.append(Entry(key: key, range: range, follows: follows))
    }

    /// Takes everything queued (to write it).
    mutating func take() -> [Entry] {
        defer {
            self.entries.removeAll()
            self.last.removeAll()
        }
        return self.entries
    }

    /// Puts back what could not be written, before what was queued since, merging again.
    mutating func restore(_ failed: [Entry]) {
        let newer = self.take()
        // In the order they were made, each with its own `follows`: the first newer range of a
        // key was queued after the take, so now it may merge into the restored one it follows.
        for entry in failed + newer { self.add(entry.range, key: entry.key, follows: entry.follows) }
    }
}

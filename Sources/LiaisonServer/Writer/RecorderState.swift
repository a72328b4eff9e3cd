import DequeModule
public import Foundation

/// The I/O-free core of a background recorder (security events, receipts): items in, one batched
/// write at a time out, retried with back-off while the database refuses, and an honest count of
/// what could not be kept.
///
/// A value type driven by events; each returns the ``Action`` its owner must execute (modelled on
/// postgres-nio's connection state machine). Guarantees:
/// - A failed write loses nothing: its batch goes back to the front of the queue and is written
///   again after ``backoff(attempt:)``, in the original order.
/// - Memory is bounded: at most `capacity` items are held (queued plus in flight). An item
///   recorded beyond that is counted in a ``DropTally`` (how many, of which kinds, first and last
///   time), never silently discarded; the next write that succeeds after drops carries the tally
///   (the owner turns it into one `audit.dropped` item) and only its success clears it.
///
/// Not thread-safe: the owner guards it with a lock.
public struct RecorderState<Item> {
    /// What the owner must do after an event.
    public enum Action {
        /// Nothing now.
        case none
        /// Write `batch` (in order) and, when not `nil`, a record of `dropped`, in one write; then
        /// call ``writeSucceeded()`` or ``writeFailed()``.
        case write(batch: [Item], dropped: DropTally?)
        /// The write failed: wait `delay`, then call ``retryDue()``.
        case retry(after: Duration, attempt: Int)
        /// The queue is full and this is the first item dropped since the last report: log it once.
        case startedDropping(capacity: Int)
    }

    /// Items that could not be held, counted for the `audit.dropped` record.
    public struct DropTally: Equatable, Sendable {
        /// How many items were dropped.
        public var count: Int
        /// When the first and the last of them were recorded.
        public var first: Date
        /// See ``first``.
        public var last: Date
        /// How many of each kind (the `kind` given to ``record(_:kind:at:)``).
        public var kinds: [String: Int]

        /// `kind count` pairs sorted by kind, e.g. `auth.failed 40, pub.refused 2`.
        public var kindsText: String {
            self.kinds.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        }

        mutating func merge(_ other: DropTally) {
            self.count += other.count
            self.first = min(self.first, other.first)
            self.last = max(self.last, other.last)
            self.kinds.merge(other.kinds, uniquingKeysWith: +)
        }
    }

    /// The most items held at once (queued plus in flight).
    public let capacity: Int
    /// The most items in one write.
    public let maxBatch: Int

    private var queue: Deque<Item> = []
    private var inFlight: [Item]?
    private var reportInFlight: DropTally?
    private var dropped: DropTally?
    private var waitingForRetry = false
    private var failedAttempts = 0

    /// Creates an idle recorder.
    ///
    /// - Parameters:
    ///   - capacity: Items held at most (≥ 1); e.g. 10 000 security events.
    ///   - maxBatch: Items per write at most (≥ 1).
    public init(capacity: Int, maxBatch: Int = 1_000) {
        precondition(capacity >= 1 && maxBatch >= 1, "capacity and maxBatch must be at least 1")
        self.capacity = capacity
        self.maxBatch = maxBatch
    }

    /// Items held now (queued and in flight): what a graceful shutdown still has to write.
    public var held: Int { self.queue.count + (self.inFlight?.count ?? 0) }

    /// Items dropped and not yet reported by a successful write.
    public var unreported: DropTally? {
        guard let reportInFlight else { return self.dropped }
        guard var dropped = self.dropped else { return reportInFlight }
        dropped.merge(reportInFlight)
        return dropped
    }

    /// An item to record, of `kind`, recorded at `now`.
    public mutating func record(_ item: Item, kind: String, at now: Date) -> Action {
        guard self.held < self.capacity else {
            let tally = DropTally(count: 1, first: now, last: now, kinds: [kind: 1])
            guard self.dropped != nil else {
                self.dropped = tally
                return .startedDropping(capacity: self.capacity)
            }
            self.dropped!.merge(tally)
            return .none
        }
        self.queue.append(item)
        return self.nextWrite()
    }

    /// The write of the last ``Action/write(batch:dropped:)`` succeeded.
    public mutating func writeSucceeded() -> Action {
        self.inFlight = nil
        self.reportInFlight = nil
        self.failedAttempts = 0
        return self.nextWrite()
    }

    /// The write of the last ``Action/write(batch:dropped:)`` failed: nothing of it was kept.
    public mutating func writeFailed() -> Action {
        if let batch = self.inFlight {
            self.queue.insert(contentsOf: batch, at: 0)
        }
        if let report = self.reportInFlight {
            if self.dropped == nil { self.dropped = report } else { self.dropped!.merge(report) }
        }
        self.inFlight = nil
        self.reportInFlight = nil
        self.failedAttempts += 1
        self.waitingForRetry = true
        return .retry(after: Self.backoff(attempt: self.failedAttempts), attempt: self.failedAttempts)
    }

    /// The delay of the last ``Action/retry(after:attempt:)`` has passed.
    public mutating func retryDue() -> Action {
        self.waitingForRetry = false
        return self.nextWrite()
    }

    /// The delay before retry number `attempt` (1, 2, …): 100 ms doubling to at most 10 s, so an
    /// outage costs the database one insert attempt per 10 s at most.
    public static func backoff(attempt: Int) -> Duration {
        let exponent = min(max(attempt - 1, 0), 7)
        return min(.milliseconds(100 * (1 << exponent)), .seconds(10))
    }

    private mutating func nextWrite() -> Action {
        guard self.inFlight == nil, !self.waitingForRetry else { return .none }
        guard !self.queue.isEmpty || self.dropped != nil else { return .none }
        let batch = Array(self.queue.prefix(self.maxBatch))
        self.queue.removeFirst(batch.count)
        self.inFlight = batch
        self.reportInFlight = self.dropped
        self.dropped = nil
        return .write(batch: batch, dropped: self.reportInFlight)
    }
}

extension RecorderState: Sendable where Item: Sendable {}
extension RecorderState.Action: Sendable where Item: Sendable {}
extension RecorderState.Action: Equatable where Item: Equatable {}

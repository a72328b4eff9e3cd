import NIOConcurrencyHelpers

/// Running totals of what the server did since it started, for operators and tests.
///
/// Cheap to update from any event loop (one lock, no allocation); read with ``snapshot``.
public final class ServerCounters: Sendable {
    /// A consistent copy of the totals.
    public struct Snapshot: Sendable, Equatable {
        /// Connections accepted.
        public var connections = 0
        /// Subscriptions routed right now (a gauge: up on `OK SUB`, down on `UNSUB` or close).
        public var subscriptions = 0
        /// Publishes committed and acknowledged with `OK PUB`.
        public var published = 0
        /// Publishes that repeated an `id` within the dedupe window (`OK PUB <seq> DUP`, nothing stored).
        public var duplicates = 0
        /// Publishes answered with `ERR 503` (nothing stored).
        public var publishFailures = 0
        /// `MSG` frames written (live and replayed).
        public var delivered = 0
        /// Times a live subscription fell behind its connection's high-water mark and switched to
        /// catching up from the log (invariant 5 of docs/ARCHITECTURE.md).
        public var catchUps = 0
        /// Messages delivered again after their ack wait or a `NAK`.
        public var redelivered = 0
        /// Messages that reached `max_deliver` without an ACK.
        public var deadLettered = 0
        /// Replay pages read from the log.
        public var replayPages = 0
    }

    // Safe to share: every field sits behind this lock.
    private let totals = NIOLockedValueBox(Snapshot())

    init() {}

    /// The totals now.
    public var snapshot: Snapshot { self.totals.withLockedValue { $0 } }

    func add(_ keyPath: WritableKeyPath<Snapshot, Int>, _ amount: Int = 1) {
        self.totals.withLockedValue { $0[keyPath: keyPath] += amount }
    }
}

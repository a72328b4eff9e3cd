import NIOConcurrencyHelpers

/// Running totals of what the server did since it started, for operators and tests.
///
/// Cheap to update from any event loop (one lock, no allocation); read with ``snapshot``. Every
/// update also moves the matching metric of ``metrics`` (docs/OPERATIONS.md, "Metrics"), so the
/// endpoint exports exactly what is counted here.
public final class ServerCounters: Sendable {
    /// A consistent copy of the totals.
    public struct Snapshot: Sendable, Equatable {
        /// Connections accepted.
        public var connections = 0
        /// Connections open right now (a gauge: up when accepted, down when closed).
        public var openConnections = 0
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
        /// `AUTH` attempts refused with `ERR 401` (unknown account, wrong or revoked token, disabled).
        public var authFailures = 0
        /// `AUTH` attempts refused by the throttle with `ERR 429`.
        public var authThrottled = 0
        /// Bytes read from client connections (protocol bytes, after TLS).
        public var bytesIn = 0
        /// Bytes written to client connections (protocol bytes, before TLS).
        public var bytesOut = 0
        /// `PUB`s refused with `ERR 429` (the account's publish rate).
        public var publishesRateLimited = 0
        /// `SUB`s refused with `ERR 429` (the connection holds the most subscriptions allowed).
        public var subscriptionsOverLimit = 0
        /// Commands refused, by command and `ERR` code.
        public var refusals: [Refusal: Int] = [:]
    }

    /// A refused command and its `ERR` code (`PUB` 403, 429, 503; `SUB` 403, 429).
    public struct Refusal: Sendable, Hashable {
        /// The commands whose refusals are counted.
        public enum Command: String, Sendable, Hashable {
            case publish = "PUB"
            case subscribe = "SUB"
        }

        /// The refused command.
        public var command: Command
        /// The `ERR` code it was answered with.
        public var code: Int
    }

    // Safe to share: every field sits behind this lock.
    private let totals = NIOLockedValueBox(Snapshot())
    /// The same counts as Prometheus metrics.
    public let metrics = ServerMetrics()
    /// The writer's commits: latency, batch size, the batch in flight (for readiness).
    let commits: CommitMonitor

    init() {
        self.commits = CommitMonitor(metrics: self.metrics)
    }

    /// The totals now.
    public var snapshot: Snapshot { self.totals.withLockedValue { $0 } }

    func add(_ keyPath: WritableKeyPath<Snapshot, Int>, _ amount: Int = 1) {
        self.totals.withLockedValue { $0[keyPath: keyPath] += amount }
        self.metrics.add(keyPath, amount)
        // These totals are refusals by code too.
        if let refusal = Self.refusals[keyPath] {
            for _ in 0..<amount { self.refused(refusal.command, code: refusal.code) }
        }
    }

    /// The refusal each of these totals counts.
    nonisolated(unsafe) private static let refusals: [WritableKeyPath<Snapshot, Int>: Refusal] = [
        \.publishFailures: Refusal(command: .publish, code: 503),
        \.publishesRateLimited: Refusal(command: .publish, code: 429),
        \.subscriptionsOverLimit: Refusal(command: .subscribe, code: 429),
    ]

    /// Counts one command refused with `ERR <code>`.
    func refused(_ command: Refusal.Command, code: Int) {
        let refusal = Refusal(command: command, code: code)
        self.totals.withLockedValue { $0.refusals[refusal, default: 0] += 1 }
        self.metrics.refused(refusal)
    }
}

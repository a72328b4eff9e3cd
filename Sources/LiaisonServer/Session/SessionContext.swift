import Logging
import NIOConcurrencyHelpers
import Postgres

/// What every client session shares: the writer, the router, the read pool, the limits.
struct SessionContext: Sendable {
    var writer: GroupCommitWriter
    var router: Router
    var readPool: PostgresPool
    var limits: ServerConfiguration.Limits
    var nodeName: String
    var logger: Logger
    var registry: ConnectionRegistry
    var ids: IDGenerator
    var counters: ServerCounters
    var durables: DurableRegistry
    var security: SecurityContext
}

/// Hands out daemon-wide unique numbers for connections and subscriptions.
final class IDGenerator: Sendable {
    // Safe to share: the counter is guarded by the lock.
    private let counter = NIOLockedValueBox<UInt64>(0)

    init() {}

    func next() -> UInt64 {
        self.counter.withLockedValue {
            $0 += 1
            return $0
        }
    }
}

/// The daemon-wide parts of access control: permissions, throttles, rate limits, audit events.
struct SecurityContext: Sendable {
    var access: AccessControl
    var throttle: AuthThrottle
    var publishRate: RateLimiter
    var events: SecurityEventRecorder
}

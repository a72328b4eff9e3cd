import LiaisonCore
import LiaisonStore
import Logging
import NIOConcurrencyHelpers

/// What every client session shares: the writer, the router, the store, the live settings.
struct SessionContext: Sendable {
    var writer: GroupCommitWriter
    var router: Router
    var storage: any LiaisonStorage
    /// The limits a connection takes when it opens (they change on a configuration reload).
    var live: LiveSettings
    var nodeName: String
    var publishTimeoutMilliseconds: Int64
    var logger: Logger
    var registry: ConnectionRegistry
    var ids: IDGenerator
    var counters: ServerCounters
    var durables: DurableRegistry
    var security: SecurityContext
    /// Writes receipt ranges; `nil` when `receipts.enabled` is false.
    var receipts: ReceiptRecorder? = nil
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

/// The real ``SessionPolicy``: the daemon's shared, lock-guarded registries.
struct DaemonSessionPolicy: SessionPolicy {
    let shared: SessionContext

    func permissions(_ account: String) -> Permissions? { self.shared.security.access.permissions(account) }
    func remember(_ account: String, _ permissions: Permissions) {
        self.shared.security.access.remember(account, permissions)
    }
    func authVerdict(address: String, account: String, now: Int64) -> AuthThrottle.Verdict {
        self.shared.security.throttle.verdict(address: address, account: account, now: now)
    }
    func authSucceeded(address: String, account: String) {
        self.shared.security.throttle.succeeded(address: address, account: account)
    }
    func authFailed(address: String, account: String, now: Int64) {
        self.shared.security.throttle.failed(address: address, account: account, now: now)
    }
    func takePublishToken(_ account: String, now: Int64) -> Bool {
        self.shared.security.publishRate.take(account, now: now)
    }
    func claimDurable(account: String, name: String) -> Bool {
        self.shared.durables.claim(account: account, name: name)
    }
    func claimAccount(_ account: String, limit: Int) -> Bool {
        self.shared.registry.claimAccount(account, limit: limit)
    }
    var connectionCount: Int { self.shared.registry.count }
}

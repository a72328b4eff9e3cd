import LiaisonStore
import NIOConcurrencyHelpers

/// Which durable consumers are bound to a connection of this daemon right now: one connection at
/// a time per (account, name), so two clients never share a cursor by accident.
///
/// Across daemons on one database the store's lease does the same (``ConsumerLeasing``): a claim
/// here only keeps a second connection of this daemon from asking the store. ``release(account:name:)``
/// frees the store's lease first and this claim second, so a bind that follows on this daemon
/// never finds the lease still taken by the connection that just left.
final class DurableRegistry: Sendable {
    private struct Claim {
        /// Ends the connection holding the consumer, when its lease was lost.
        var onLost: (@Sendable () -> Void)?
    }

    // Safe to share: the map is guarded by the lock.
    private let active = NIOLockedValueBox<[String: Claim]>([:])
    private let leases: (any ConsumerLeasing)?

    /// - Parameter leases: The store's leases across daemons; `nil` for none (tests of one daemon).
    init(leases: (any ConsumerLeasing)? = nil) {
        self.leases = leases
    }

    private static func key(_ account: String, _ name: String) -> String { account + "\u{0}" + name }

    /// Binds the consumer; `false` when another connection of this daemon holds it.
    func claim(account: String, name: String) -> Bool {
        self.active.withLockedValue { active in
            guard active[Self.key(account, name)] == nil else { return false }
            active[Self.key(account, name)] = Claim()
            return true
        }
    }

    /// Says how to end the connection that claimed the consumer, should its lease be lost.
    func attach(account: String, name: String, onLost: @escaping @Sendable () -> Void) {
        self.active.withLockedValue { $0[Self.key(account, name)]?.onLost = onLost }
    }

    /// Releases the consumer: the store's lease (after whatever the consumer thread has queued),
    /// then the claim.
    func release(account: String, name: String) {
        guard let leases = self.leases else { return self.dropClaim(account: account, name: name) }
        Task(executorPreference: StorageExecutor.shared) {
            // A release that never ran (its deadline passed) leaves the lease held on this
            // daemon's connection: the next bind here reuses it.
            try? await leases.releaseConsumer(account: account, name: name)
            self.dropClaim(account: account, name: name)
        }
    }

    /// The store lost the consumer's lease (another daemon took it while this one reconnected):
    /// ends the connection holding it.
    func lost(account: String, name: String) {
        let onLost = self.active.withLockedValue { $0[Self.key(account, name)]?.onLost }
        onLost?()
    }

    private func dropClaim(account: String, name: String) {
        self.active.withLockedValue { _ = $0.removeValue(forKey: Self.key(account, name)) }
    }
}

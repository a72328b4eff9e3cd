import NIOConcurrencyHelpers

/// Which durable consumers are bound to a connection of this daemon right now: one connection at
/// a time per (account, name), so two clients never share a cursor by accident.
final class DurableRegistry: Sendable {
    // Safe to share: the set is guarded by the lock.
    private let active = NIOLockedValueBox<Set<String>>([])

    init() {}

    private static func key(_ account: String, _ name: String) -> String { account + "\u{0}" + name }

    /// Binds the consumer; `false` when another connection holds it.
    func claim(account: String, name: String) -> Bool {
        self.active.withLockedValue { $0.insert(Self.key(account, name)).inserted }
    }

    /// Releases the consumer.
    func release(account: String, name: String) {
        self.active.withLockedValue { _ = $0.remove(Self.key(account, name)) }
    }
}

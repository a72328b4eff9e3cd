import NIOConcurrencyHelpers
import NIOCore

/// The open client connections, so graceful shutdown can drain and close each one.
final class ConnectionRegistry: Sendable {
    // Safe to share: the map is guarded by the lock.
    private let channels = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])

    init() {}

    /// The number of open connections.
    var count: Int { self.channels.withLockedValue { $0.count } }

    func add(_ channel: any Channel) {
        self.channels.withLockedValue { $0[ObjectIdentifier(channel)] = channel }
    }

    func remove(_ channel: any Channel) {
        self.channels.withLockedValue { _ = $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    // Safe to share: the counts are guarded by the lock.
    private let perAccount = NIOLockedValueBox<[String: Int]>([:])

    /// Counts a connection for `account`; false (and nothing counted) when it has `limit` already.
    func claimAccount(_ account: String, limit: Int) -> Bool {
        self.perAccount.withLockedValue { counts in
            let current = counts[account] ?? 0
            guard current < limit else { return false }
            counts[account] = current + 1
            return true
        }
    }

    /// Uncounts a connection of `account`.
    func releaseAccount(_ account: String) {
        self.perAccount.withLockedValue { counts in
            let remaining = (counts[account] ?? 1) - 1
            counts[account] = remaining > 0 ? remaining : nil
        }
    }

    /// A snapshot of the open connections.
    var all: [any Channel] { self.channels.withLockedValue { Array($0.values) } }
}

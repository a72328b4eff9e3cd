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

    /// A snapshot of the open connections.
    var all: [any Channel] { self.channels.withLockedValue { Array($0.values) } }
}

import Postgres
import Synchronization

extension PostgresStorage: NodeHealthStorage {
    public func schemaVersion() async throws -> Int {
        try await self.read("schema version") { try Migrator().currentVersion(on: $0) }
    }

    public func heartbeat(_ record: NodeRecord) async throws {
        try await self.read("node heartbeat") { connection in try NodeRegistry().heartbeat(record, on: connection) }
    }

    public func removeNode(_ record: NodeRecord) async throws {
        try await self.read("node removal") { connection in try NodeRegistry().remove(record, on: connection) }
    }

    public func mostLaggingConsumers(limit: Int) async throws -> [DurableLag] {
        try await self.read("durable lag") { connection in try Consumers().mostLagging(limit: limit, on: connection) }
    }

    public var connectionStatistics: DatabaseConnectionStatistics { self.connects.statistics }
}

/// Counts the connection attempts of a storage's threads (each attempt runs on a libpq thread).
final class ConnectionAttempts: Sendable {
    private let counts = Mutex(DatabaseConnectionStatistics())

    /// The counts now.
    var statistics: DatabaseConnectionStatistics { self.counts.withLock { $0 } }

    /// Wraps `connect` so that each attempt is counted as opened or failed.
    func counting(_ connect: @escaping @Sendable () throws -> Connection) -> @Sendable () throws -> Connection {
        { [self] in
            do {
                let connection = try connect()
                self.counts.withLock { $0.opened += 1 }
                return connection
            } catch {
                self.counts.withLock { $0.failed += 1 }
                throw error
            }
        }
    }
}

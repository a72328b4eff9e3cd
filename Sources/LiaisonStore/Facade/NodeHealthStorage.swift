/// What the daemon's health, metrics and node-registry services need of the database, apart from
/// ``LiaisonStorage`` (so fakes of that protocol need not grow): cheap calls, each with a deadline.
public protocol NodeHealthStorage: Sendable {
    /// The highest applied migration version, read on the read pool within the storage call
    /// timeout (`database.callTimeoutMs`) even when the database hangs.
    ///
    /// - Throws: ``StoreError`` `.unavailable` when the database cannot be reached in time.
    func schemaVersion() async throws -> Int

    /// Inserts or refreshes the daemon's `liaison_nodes` row (``NodeRegistry/heartbeat(_:pruneAfterSeconds:on:)``).
    ///
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    func heartbeat(_ record: NodeRecord) async throws

    /// Deletes the daemon's `liaison_nodes` row (graceful shutdown).
    ///
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    func removeNode(_ record: NodeRecord) async throws

    /// The `limit` durable consumers furthest behind the log's head (``Consumers/mostLagging(limit:on:)``).
    ///
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    func mostLaggingConsumers(limit: Int) async throws -> [DurableLag]

    /// Connection attempts of the storage threads since they started.
    var connectionStatistics: DatabaseConnectionStatistics { get }
}

/// Connection attempts of a storage's libpq threads.
public struct DatabaseConnectionStatistics: Sendable, Equatable {
    /// Connections opened (each thread's first, then one after each broken connection).
    public var opened = 0
    /// Connection attempts that failed (server down, refused, timed out, bad credentials).
    public var failed = 0

    /// Creates a value.
    public init(opened: Int = 0, failed: Int = 0) {
        self.opened = opened
        self.failed = failed
    }
}

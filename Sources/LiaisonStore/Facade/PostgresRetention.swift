import Postgres

/// ``RetentionPurging`` over PostgreSQL: a libpq thread and connection of its own, so a purge
/// batch never queues behind or in front of the writer, the sealer or the read pool. Its
/// session holds the purge lock during a pass.
public final class PostgresRetention: RetentionPurging {
    private let worker: PostgresWorker
    private let callTimeoutMilliseconds: Int64

    /// Starts the thread; the connection opens at the first call, and again after a failure.
    ///
    /// - Parameters:
    ///   - databaseURL: libpq connection string or URI.
    ///   - timeouts: Connect, statement and call deadlines, and TCP keepalive settings.
    public init(databaseURL: String, timeouts: DatabaseTimeouts = .init()) {
        let options = timeouts.connectionOptions
        self.worker = PostgresWorker(name: "liaison-retention") { try Connection(databaseURL, options: options) }
        self.callTimeoutMilliseconds = max(1, timeouts.callMilliseconds)
    }

    /// Finishes the queued job, closes the connection and ends the thread. Blocks; idempotent.
    public func shutdown() {
        self.worker.shutdown()
    }

    private func call<T: Sendable>(
        _ what: String,
        _ body: @escaping @Sendable (Connection) throws -> T
    ) async throws
        -> T
    {
        try await DeadlineCall.run(
            what,
            on: self.worker,
            deadline: .now + .milliseconds(self.callTimeoutMilliseconds),
            body
        )
    }

    public func beginPurge(_ options: PurgeOptions) async throws -> PurgePass? {
        try await self.call("begin purge") { connection in try RetentionPurger().begin(options, on: connection) }
    }

    public func purgeStep(_ pass: PurgePass) async throws -> PurgePass {
        try await self.call("purge step") { connection in
            var next = pass
            try RetentionPurger().step(&next, on: connection)
            return next
        }
    }

    public func endPurge(_ pass: PurgePass) async throws {
        try await self.call("end purge") { connection in try RetentionPurger().end(pass, on: connection) }
    }

    public func abandonPurge() async {
        _ = try? await self.call("abandon purge") { connection in RetentionPurger().abandon(on: connection) }
    }
}

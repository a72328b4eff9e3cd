/// Something that runs jobs on connections confined to threads of its own: a ``PostgresWorker``
/// (one thread) or a ``PostgresPool`` (several).
///
/// Jobs are synchronous closures that receive the connection; libpq never runs on an event loop
/// or on Swift's cooperative pool (measured on 2 cores: one blocking call there froze every other task for a second; docs/ARCHITECTURE.md).
public protocol PostgresExecutor: Sendable {
    /// Queues `body`; `completion` receives its outcome (or the connect or shutdown error) on the
    /// executor's thread.
    func submit<T>(
        _ body: @escaping @Sendable (Connection) throws -> T,
        completion: @escaping @Sendable (Result<T, any Error>) -> Void
    )
}

extension PostgresExecutor {
    /// Runs `body` on one of the executor's threads and returns its result. Cancelling the task
    /// does not stop a job that was already queued.
    ///
    /// - Parameter body: The work; it must not keep the connection after returning.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws, the connect error, or `.connectionFailed` after shutdown.
    public func run<T: Sendable>(_ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            self.submit(body) { continuation.resume(with: $0) }
        }
    }
}

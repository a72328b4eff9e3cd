/// Something that runs jobs on connections confined to threads of its own: a ``PostgresWorker``
/// (one thread) or a ``PostgresPool`` (several).
///
/// Jobs are synchronous closures that receive the connection; libpq never runs on an event loop
/// or on Swift's cooperative pool (measured on 2 cores: one blocking call there froze every other task for a second; docs/ARCHITECTURE.md).
public protocol PostgresExecutor: Sendable {
    /// Queues `body`; `completion` receives its outcome (or the connect, shutdown or deadline
    /// error) exactly once.
    ///
    /// - Parameters:
    ///   - deadline: When the job must have *started* by; `nil` for no limit. A job still queued
    ///     then fails with `PostgresError(.timeout, "not started within … ms")` and its body never
    ///     runs; a job that started is not interrupted (its statements are bounded by
    ///     ``ConnectionOptions/statementTimeoutMilliseconds``).
    ///   - body: The work; it must not keep the connection after returning.
    ///   - completion: Receives the outcome on the executor's thread, or on a Dispatch thread when
    ///     the deadline passed first; keep it short.
    func submit<T>(
        deadline: ContinuousClock.Instant?,
        _ body: @escaping @Sendable (Connection) throws -> T,
        completion: @escaping @Sendable (Result<T, any Error>) -> Void
    )
}

extension PostgresExecutor {
    /// Queues `body` without a deadline; see ``submit(deadline:_:completion:)``.
    ///
    /// - Parameters:
    ///   - body: The work; it must not keep the connection after returning.
    ///   - completion: Receives the outcome (or the connect or shutdown error) on the executor's thread.
    public func submit<T>(
        _ body: @escaping @Sendable (Connection) throws -> T,
        completion: @escaping @Sendable (Result<T, any Error>) -> Void
    ) {
        submit(deadline: nil, body, completion: completion)
    }

    /// Runs `body` on one of the executor's threads and returns its result. Cancelling the task
    /// does not stop a job that was already queued.
    ///
    /// - Parameter body: The work; it must not keep the connection after returning.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws, the connect error, or `.connectionFailed` after shutdown.
    public func run<T: Sendable>(_ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        try await run(deadline: nil, body)
    }

    /// Runs `body` on one of the executor's threads if it starts by `deadline`, and returns its
    /// result.
    ///
    /// ```swift
    /// let count = try await pool.run(deadline: .now + .seconds(5)) { try $0.query("SELECT 1").rowCount }
    /// ```
    ///
    /// - Parameters:
    ///   - deadline: When the job must have started by; `nil` for no limit.
    ///   - body: The work; it must not keep the connection after returning.
    /// - Returns: What `body` returns.
    /// - Throws: `PostgresError(.timeout)` when the job did not start by `deadline` (`body` did not
    ///   run) or one of its statements timed out; what `body` throws; the connect error;
    ///   `.connectionFailed` after shutdown.
    public func run<T: Sendable>(
        deadline: ContinuousClock.Instant?,
        _ body: @escaping @Sendable (Connection) throws -> T
    ) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            self.submit(deadline: deadline, body) { continuation.resume(with: $0) }
        }
    }
}

/// A thread that owns one connection and runs jobs on it one at a time, in submission order.
///
/// libpq calls block their thread; on a 2-core machine a blocking call on Swift's cooperative pool
/// or an event loop stalls every other task, so all of them run here instead. The connection is
/// opened lazily by `connect` on the worker thread, at the first job and again after a job failed
/// with a connection error. When `connect` throws, that job fails and later jobs fail fast with the
/// same error for a pause growing from 250 ms to 5 s, so a database outage does not turn every job
/// into a connect timeout.
///
/// `Sendable` without `@unchecked`: its only state is a ``JobQueue`` (lock-guarded) and immutable
/// values; the connection lives only on the worker thread.
///
/// ```swift
/// let worker = PostgresWorker(name: "liaison-writer") { try Connection(url, options: ConnectionOptions()) }
/// let seq = try await worker.run(deadline: .now + .seconds(5)) {
///     try $0.query("SELECT nextval('seq')").decode(Int64.self, row: 0, column: 0)
/// }
/// worker.shutdown()
/// ```
public final class PostgresWorker: PostgresExecutor {
    private let queue = JobQueue()

    /// Starts the worker thread; no connection is opened until the first job.
    ///
    /// - Parameters:
    ///   - name: The thread's name.
    ///   - connect: Opens a connection; called on the worker thread whenever it has no healthy one.
    ///     Pass the ``ConnectionOptions`` here: `{ try Connection(url, options: options) }`.
    public init(name: String, connect: @escaping @Sendable () throws -> Connection) {
        WorkerThread.start(name: name, queue: queue, connect: connect)
    }

    /// Queues a job.
    ///
    /// `body` runs on the worker thread with a healthy connection; `completion` is then called on the
    /// worker thread with the body's result, or with the connect error (and `body` is not run).
    /// After shutdown, `completion` is called at once on the caller's thread with
    /// `PostgresError(.connectionFailed, "worker shut down")`. A job not started by `deadline` fails
    /// with `PostgresError(.timeout)` at the deadline, on a Dispatch thread, and its body never runs.
    /// A body that throws an error with `isConnectionError` (a statement timeout included) makes the
    /// worker drop the connection; a body that leaves a transaction open has it rolled back.
    ///
    /// - Parameters:
    ///   - deadline: When the job must have started by; `nil` for no limit.
    ///   - body: The work; it must not keep the connection after returning.
    ///   - completion: Receives the outcome once; keep it short, it holds up the next job.
    public func submit<T>(
        deadline: ContinuousClock.Instant?,
        _ body: @escaping @Sendable (Connection) throws -> T,
        completion: @escaping @Sendable (Result<T, any Error>) -> Void
    ) {
        let job = PostgresJob.make(deadline: deadline, body, completion: completion)
        if !queue.enqueue(job) {
            job.fail(PostgresError(.connectionFailed, "worker shut down"))
        }
    }

    deinit {
        // Without this, a forgotten worker's threads would wait on the queue forever.
        queue.shutDown(expectedThreads: 1, wait: false)
    }

    /// The number of jobs waiting to start.
    public var queueDepth: Int { queue.depth }

    /// Refuses new jobs, finishes the queued ones, closes the connection and ends the thread.
    /// Blocks until the thread ended (except when called from a job, which cannot wait for itself).
    /// Idempotent.
    public func shutdown() {
        queue.shutDown(expectedThreads: 1)
    }
}

/// A fixed number of ``PostgresWorker``-style threads, each with its own connection, taking jobs
/// from one shared FIFO queue: a free thread takes the next job, so jobs start in submission order
/// but may finish in any order.
///
/// Use it for reads that may run concurrently; use one ``PostgresWorker`` where order matters.
/// Connection handling (lazy connect, reconnect, backoff from 250 ms to 5 s) is per thread, as in
/// ``PostgresWorker``.
///
/// `Sendable` without `@unchecked`: its only state is a ``JobQueue`` (lock-guarded) and immutable
/// values; each connection lives only on its thread.
public final class PostgresPool: PostgresExecutor {
    private let queue = JobQueue()
    private let size: Int

    /// Starts `size` threads named `name-0`, `name-1`, ...; no connection is opened until jobs arrive.
    ///
    /// - Parameters:
    ///   - name: The threads' name prefix.
    ///   - size: The number of threads and connections, at least 1.
    ///   - connect: Opens a connection; called on a pool thread whenever it has no healthy one.
    ///     Pass the ``ConnectionOptions`` here: `{ try Connection(url, options: options) }`.
    public init(name: String, size: Int, connect: @escaping @Sendable () throws -> Connection) {
        precondition(size >= 1, "a pool needs at least one thread")
        self.size = size
        for index in 0..<size {
            WorkerThread.start(name: "\(name)-\(index)", queue: queue, connect: connect)
        }
    }

    /// Queues a job for the next free thread; see ``PostgresWorker/submit(deadline:_:completion:)``.
    ///
    /// - Parameters:
    ///   - deadline: When the job must have started by; `nil` for no limit.
    ///   - body: The work; it must not keep the connection after returning.
    ///   - completion: Receives the outcome on the pool thread (on the caller's thread after shutdown).
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
        queue.shutDown(expectedThreads: size, wait: false)
    }

    /// The number of jobs waiting for a free thread.
    public var queueDepth: Int { queue.depth }

    /// Refuses new jobs, finishes the queued ones, closes the connections and ends the threads.
    /// Blocks until they ended (except when called from a job). Idempotent.
    public func shutdown() {
        queue.shutDown(expectedThreads: size)
    }
}

internal import Foundation

/// The loop one worker thread runs: take a job, make sure there is a healthy connection, run it.
///
/// The connection lives only in this struct, on its thread, so it is never shared.
struct WorkerThread {
    /// The first pause after a failed connect, in milliseconds.
    static let initialBackoffMilliseconds = 250
    /// The longest pause between connect attempts, in milliseconds.
    static let maximumBackoffMilliseconds = 5_000

    private let queue: JobQueue
    private let connect: @Sendable () throws -> Connection
    private var connection: Connection?
    private var lastConnectError: (any Error)?
    private var retryAt = ContinuousClock.now
    private var backoffMilliseconds = initialBackoffMilliseconds

    /// Starts a thread running the loop over `queue`.
    ///
    /// - Parameters:
    ///   - name: The thread's name, shown by debuggers and `top -H`.
    ///   - queue: Where jobs come from.
    ///   - connect: Opens a connection; called on the thread.
    static func start(name: String, queue: JobQueue, connect: @escaping @Sendable () throws -> Connection) {
        let thread = Thread {
            queue.threadStarted()
            var loop = WorkerThread(queue: queue, connect: connect)
            loop.run()
            queue.threadEnded()
        }
        thread.name = name
        thread.start()
    }

    private init(queue: JobQueue, connect: @escaping @Sendable () throws -> Connection) {
        self.queue = queue
        self.connect = connect
    }

    private mutating func run() {
        while let job = queue.next() {
            // A job past its deadline fails without running, and without a connect attempt that
            // could itself take the whole connect timeout.
            if job.failIfLate() {
                continue
            }
            let connection: Connection
            do {
                connection = try healthyConnection()
            } catch {
                job.fail(error)
                continue
            }
            if job.failIfLate() {
                continue
            }
            let error = job.run(connection)
            settle(connection, after: error)
        }
        connection?.close()
        connection = nil
    }

    /// The current connection if healthy, else a new one; within the backoff window after a failed
    /// connect, the last connect error without trying again.
    private mutating func healthyConnection() throws -> Connection {
        if let connection, connection.probe() {
            return connection
        }
        connection?.close()
        connection = nil
        if let lastConnectError, ContinuousClock.now < retryAt {
            throw lastConnectError
        }
        do {
            let fresh = try connect()
            connection = fresh
            lastConnectError = nil
            backoffMilliseconds = Self.initialBackoffMilliseconds
            return fresh
        } catch {
            lastConnectError = error
            retryAt = ContinuousClock.now + .milliseconds(backoffMilliseconds)
            backoffMilliseconds = min(backoffMilliseconds * 2, Self.maximumBackoffMilliseconds)
            throw error
        }
    }

    /// Drops a connection the job broke, and rolls back a transaction the job left open so the
    /// next job starts clean.
    private mutating func settle(_ used: Connection, after error: (any Error)?) {
        let broken = (error as? PostgresError)?.isConnectionError == true || !used.isHealthy
        if !broken && used.isInTransaction {
            if (try? used.query("ROLLBACK")) != nil {
                return
            }
        } else if !broken {
            return
        }
        used.close()
        connection = nil
    }
}

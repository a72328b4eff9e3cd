import Dispatch
import Postgres
import Synchronization

/// Runs a job on a libpq executor and waits for it at most until a deadline.
///
/// The job itself may go on after the deadline (a libpq call on a hung server returns only when
/// its own statement timeout closes the connection); the caller is answered on time all the
/// same, with ``StoreError`` `.unavailable`. Callers that must know a write's outcome after such
/// an answer look it up later (the writer's batch tokens, docs/ARCHITECTURE.md).
enum DeadlineCall {
    /// Resumes a continuation once, whichever comes first: the job's result or the deadline.
    private final class Once<T: Sendable>: Sendable {
        private let continuation: Mutex<CheckedContinuation<T, any Error>?>

        init(_ continuation: CheckedContinuation<T, any Error>) {
            self.continuation = Mutex(continuation)
        }

        func resume(with result: Result<T, any Error>) {
            let taken = self.continuation.withLock { value in
                defer { value = nil }
                return value
            }
            taken?.resume(with: result)
        }
    }

    /// Runs `body` on `executor`, answering by `deadline` at the latest.
    ///
    /// - Parameters:
    ///   - what: What the job does, for the timeout's message (`append`, `read page`).
    ///   - executor: The worker or pool to run on.
    ///   - deadline: When to give up waiting.
    ///   - body: The job; it runs on a libpq thread.
    /// - Returns: The job's result.
    /// - Throws: ``StoreError``: the job's error wrapped, or `.unavailable` at the deadline.
    static func run<T: Sendable>(
        _ what: String,
        on executor: any PostgresExecutor,
        deadline: ContinuousClock.Instant,
        _ body: @escaping @Sendable (Connection) throws -> T
    ) async throws -> T {
        let remaining = ContinuousClock.now.duration(to: deadline)
        guard remaining > .zero else {
            throw StoreError(.unavailable, "\(what): no time left before the deadline")
        }
        return try await withCheckedThrowingContinuation { continuation in
            let once = Once(continuation)
            // A job still queued at the deadline never runs (the caller was answered already).
            executor.submit(deadline: deadline, body) { result in
                switch result {
                case .success(let value): once.resume(with: .success(value))
                case .failure(let error): once.resume(with: .failure(StoreError.wrap(error)))
                }
            }
            let (seconds, attoseconds) = remaining.components
            let nanoseconds = Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
            DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(nanoseconds)) {
                let milliseconds = nanoseconds / 1_000_000
                once.resume(
                    with: .failure(
                        StoreError(.unavailable, "\(what): database did not answer within \(milliseconds) ms")
                    )
                )
            }
        }
    }
}

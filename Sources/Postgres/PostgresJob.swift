internal import Dispatch
internal import Synchronization

/// One job for a worker thread, type-erased, with an optional start deadline.
///
/// Exactly one of ``run`` and ``fail`` reaches the completion: the first to claim the job wins.
/// A job with a deadline fails with `PostgresError(.timeout)` at the deadline if no thread has
/// started it by then (a timer fires on a Dispatch queue); a thread that takes it afterwards skips it.
struct PostgresJob: Sendable {
    /// Runs the body on a healthy connection and reports to the completion, unless the job was
    /// already failed; returns the body's error, if any, so the thread can decide whether to keep
    /// the connection.
    let run: @Sendable (Connection) -> (any Error)?
    /// Reports a failure without running the body (connect failed, worker shut down, deadline
    /// passed), unless the job was already claimed.
    let fail: @Sendable (any Error) -> Void
    /// When the job must have started by; `nil` for none.
    let deadline: ContinuousClock.Instant?
    /// The error for a job that did not start by its deadline.
    let lateError: PostgresError?

    /// Fails the job with the deadline error if its deadline has passed.
    ///
    /// - Returns: Whether it had passed (the job must then not run).
    func failIfLate() -> Bool {
        guard let deadline, let lateError, ContinuousClock.now >= deadline else {
            return false
        }
        fail(lateError)
        return true
    }

    /// Erases a typed body and completion into a job, and arms the deadline's timer.
    ///
    /// - Parameters:
    ///   - deadline: When the job must have started by; `nil` for none.
    ///   - body: The work.
    ///   - completion: Receives the outcome, once.
    static func make<T>(
        deadline: ContinuousClock.Instant?,
        _ body: @escaping @Sendable (Connection) throws -> T,
        completion: @escaping @Sendable (Result<T, any Error>) -> Void
    ) -> PostgresJob {
        let claim = JobClaim()
        let lateError = deadline.map { deadline in
            let budget = ContinuousClock.now.duration(to: deadline).roundedUpMilliseconds
            return PostgresError(.timeout, "not started within \(budget) ms")
        }
        let fail: @Sendable (any Error) -> Void = { error in
            if claim.take() {
                completion(.failure(error))
            }
        }
        if let deadline, let lateError {
            // The timer keeps the completion alive until the deadline even when the job ran long
            // before; it then finds the job claimed and does nothing.
            let delay = ContinuousClock.now.duration(to: deadline).roundedUpMilliseconds
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int(delay))) {
                fail(lateError)
            }
        }
        return PostgresJob(
            run: { connection in
                guard claim.take() else {
                    return nil
                }
                do {
                    let value = try body(connection)
                    completion(.success(value))
                    return nil
                } catch {
                    completion(.failure(error))
                    return error
                }
            },
            fail: fail,
            deadline: deadline,
            lateError: lateError
        )
    }
}

/// Who reports a job's outcome: the thread that starts it, or the deadline's timer or a failure
/// path before that; whoever takes the claim first.
private final class JobClaim: Sendable {
    private let taken = Atomic<Bool>(false)

    /// Takes the claim; `true` only for the first caller.
    func take() -> Bool {
        !taken.exchange(true, ordering: .acquiringAndReleasing)
    }
}

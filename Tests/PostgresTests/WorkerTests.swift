import Foundation
import Postgres
import Synchronization
import Testing

/// PostgresWorker and PostgresPool: ordering, concurrency, reconnects, failures, shutdown.
@Suite(.temporaryDatabase)
struct WorkerTests {
    private func connector() throws -> @Sendable () throws -> Connection {
        let url = try TemporaryDatabase.currentURL()
        return { try Connection(url) }
    }

    @Test
    func jobsRunInSubmissionOrderOnOneConnection() async throws {
        let worker = PostgresWorker(name: "pgtests-order", connect: try connector())
        defer { worker.shutdown() }
        let seen = Mutex<[Int]>([])
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            for index in 0..<200 {
                worker.submit(
                    { connection in
                        try connection.query("SELECT $1::int8", Int64(index)).decode(Int64.self, row: 0, column: 0)
                    },
                    completion: { result in
                        let value = (try? result.get()).map(Int.init) ?? -1
                        let count = seen.withLock { values -> Int in
                            values.append(value)
                            return values.count
                        }
                        if count == 200 {
                            done.resume()
                        }
                    }
                )
            }
        }
        #expect(seen.withLock { $0 } == Array(0..<200))
        let pids = try await (0..<5).asyncMap { _ in try await worker.run { $0.backendPID } }
        #expect(Set(pids).count == 1)
    }

    @Test
    func runReturnsValuesAndThrowsServerErrors() async throws {
        let worker = PostgresWorker(name: "pgtests-run", connect: try connector())
        defer { worker.shutdown() }
        let answer = try await worker.run { try $0.query("SELECT 6 * 7").decode(Int.self, row: 0, column: 0) }
        #expect(answer == 42)
        let error = await #expect(throws: PostgresError.self) { try await worker.run { _ = try $0.query("SELEC") } }
        #expect(error?.sqlState == "42601")
        let pid = try await worker.run { $0.backendPID }
        #expect(try await worker.run { $0.backendPID } == pid)
    }

    @Test
    func transactionLeftOpenByAJobIsRolledBack() async throws {
        let worker = PostgresWorker(name: "pgtests-open-tx", connect: try connector())
        defer { worker.shutdown() }
        try await worker.run { _ = try $0.query("CREATE TABLE left_open (n int8)") }
        try await worker.run { connection in
            try connection.query("BEGIN")
            try connection.query("INSERT INTO left_open VALUES (1)")
        }
        #expect(try await worker.run { $0.isInTransaction } == false)
        #expect(
            try await worker.run { try $0.query("SELECT count(*) FROM left_open").decode(Int.self, row: 0, column: 0) }
                == 0
        )
    }

    @Test
    func poolRunsJobsConcurrently() async throws {
        let pool = PostgresPool(name: "pgtests-pool", size: 3, connect: try connector())
        defer { pool.shutdown() }
        // Each job records when it ran on its pool thread; the intervals must overlap, which
        // holds however late the test's own tasks get scheduled.
        let runs = Mutex<[(pid: Int32, start: ContinuousClock.Instant, end: ContinuousClock.Instant)]>([])
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            for _ in 0..<3 {
                pool.submit(
                    { connection in
                        let start = ContinuousClock.now
                        _ = try connection.query("SELECT pg_sleep(0.5)")
                        return (connection.backendPID, start, ContinuousClock.now)
                    },
                    completion: { result in
                        let finished = runs.withLock { entries -> Int in
                            if let run = try? result.get() {
                                entries.append(run)
                            }
                            return entries.count
                        }
                        if finished == 3 || (try? result.get()) == nil {
                            done.resume()
                        }
                    }
                )
            }
        }
        let recorded = runs.withLock { $0 }
        try #require(recorded.count == 3)
        #expect(Set(recorded.map(\.pid)).count == 3)
        let latestStart = try #require(recorded.map(\.start).max())
        let earliestEnd = try #require(recorded.map(\.end).min())
        #expect(latestStart < earliestEnd, "the three 0.5 s sleeps did not overlap")
    }

    @Test
    func workerReplacesAConnectionTheServerEndedWhileIdle() async throws {
        let worker = PostgresWorker(name: "pgtests-reconnect", connect: try connector())
        defer { worker.shutdown() }
        let oldPID = try await worker.run { $0.backendPID }
        let killer = try TemporaryDatabase.connect()
        try killer.query("SELECT pg_terminate_backend($1, 5000)", oldPID)
        // The worker probes its idle connection before each job, sees the server's goodbye, and
        // reconnects: the job does not fail for a connection that died while idle.
        let newPID = try await worker.run { connection in
            try connection.query("SELECT 1")
            return connection.backendPID
        }
        #expect(newPID != oldPID)
    }

    @Test
    func connectFailureReachesTheCompletionAndFailsFastDuringBackoff() async throws {
        let attempts = Mutex(0)
        let worker = PostgresWorker(name: "pgtests-badport") {
            attempts.withLock { $0 += 1 }
            return try Connection("postgresql://liaison@127.0.0.1:1/postgres?connect_timeout=2")
        }
        defer { worker.shutdown() }
        // Two jobs queued back to back: the first tries to connect, the second falls inside the
        // 250 ms backoff and fails with the same error without a second attempt.
        let outcomes = Mutex<[PostgresError?]>([])
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            for _ in 0..<2 {
                worker.submit(
                    { $0.backendPID },
                    completion: { result in
                        let count = outcomes.withLock { entries -> Int in
                            if case .failure(let error) = result {
                                entries.append(error as? PostgresError)
                            } else {
                                entries.append(nil)
                            }
                            return entries.count
                        }
                        if count == 2 {
                            done.resume()
                        }
                    }
                )
            }
        }
        #expect(outcomes.withLock { $0.map { $0?.code } } == [.connectionFailed, .connectionFailed])
        #expect(attempts.withLock { $0 } == 1)
        try await Task.sleep(for: .milliseconds(300))
        _ = await #expect(throws: PostgresError.self) { try await worker.run { $0.backendPID } }
        #expect(attempts.withLock { $0 } == 2)
    }

    @Test
    func shutdownFinishesQueuedJobsThenRefusesNewOnes() async throws {
        let worker = PostgresWorker(name: "pgtests-shutdown", connect: try connector())
        let finished = Mutex(0)
        for _ in 0..<20 {
            worker.submit(
                { _ = try $0.query("SELECT pg_sleep(0.01)") },
                completion: { result in
                    if case .success = result {
                        finished.withLock { $0 += 1 }
                    }
                }
            )
        }
        worker.shutdown()
        #expect(finished.withLock { $0 } == 20)
        #expect(worker.queueDepth == 0)
        worker.shutdown()
        let error = await #expect(throws: PostgresError.self) { try await worker.run { $0.backendPID } }
        #expect(error?.code == .connectionFailed)
        #expect(error?.message == "worker shut down")

        let pool = PostgresPool(name: "pgtests-pool-shutdown", size: 2, connect: try connector())
        pool.shutdown()
        let poolError = await #expect(throws: PostgresError.self) { try await pool.run { $0.backendPID } }
        #expect(poolError?.message == "worker shut down")
    }

    @Test
    func aJobWhoseDeadlinePassesInTheQueueFailsWithoutRunning() async throws {
        let worker = PostgresWorker(name: "pgtests-deadline", connect: try connector())
        defer { worker.shutdown() }
        try await worker.run { _ in }  // connected, so the sleep starts at once
        let sleepEnded = Mutex<ContinuousClock.Instant?>(nil)
        worker.submit(
            { _ = try $0.query("SELECT pg_sleep(2)") },
            completion: { _ in sleepEnded.withLock { $0 = .now } }
        )
        let ran = Atomic<Bool>(false)
        // Recorded in the completion itself: the test's own task may resume late on a busy machine.
        let outcome = Mutex<(error: PostgresError?, sleepStillRunning: Bool)?>(nil)
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            worker.submit(
                deadline: .now + .milliseconds(300),
                { _ in ran.store(true, ordering: .relaxed) },
                completion: { result in
                    var error: PostgresError?
                    if case .failure(let failure) = result {
                        error = failure as? PostgresError
                    }
                    let sleepStillRunning = sleepEnded.withLock { $0 == nil }
                    outcome.withLock { $0 = (error, sleepStillRunning) }
                    done.resume()
                }
            )
        }
        let recorded = try #require(outcome.withLock { $0 })
        #expect(recorded.error?.code == .timeout)
        #expect(recorded.error?.message.hasPrefix("not started within") == true, "\(String(describing: recorded))")
        let ranEarly = ran.load(ordering: .relaxed)
        #expect(!ranEarly)
        // Failed at its deadline, while the sleep still held the worker, not when the worker got to it.
        #expect(recorded.sleepStillRunning)
        // A job whose deadline is not reached runs, after the sleep, on the same healthy worker.
        let answer = try await worker.run(deadline: .now + .seconds(30)) {
            try $0.query("SELECT 7").decode(Int.self, row: 0, column: 0)
        }
        #expect(answer == 7)
        #expect(sleepEnded.withLock { $0 } != nil)
        let ranLate = ran.load(ordering: .relaxed)
        #expect(!ranLate)
    }

    @Test
    func queueDepthCountsWaitingJobs() async throws {
        let worker = PostgresWorker(name: "pgtests-depth", connect: try connector())
        defer { worker.shutdown() }
        let gate = DispatchSemaphore(value: 0)
        worker.submit({ _ in gate.wait() }, completion: { _ in })
        for _ in 0..<5 {
            worker.submit({ _ in }, completion: { _ in })
        }
        // The first job may not have been taken yet; then 6 wait.
        #expect(worker.queueDepth >= 5)
        gate.signal()
        try await worker.run { _ in }
        #expect(worker.queueDepth == 0)
    }
}

extension Sequence {
    /// Maps sequentially with an async transform.
    fileprivate func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var values: [T] = []
        for element in self {
            values.append(try await transform(element))
        }
        return values
    }
}

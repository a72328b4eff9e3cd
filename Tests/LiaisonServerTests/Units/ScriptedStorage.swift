import Foundation
import LiaisonCore
import LiaisonStore
import NIOConcurrencyHelpers

/// A ``LiaisonStorage`` whose writer calls follow a script, for testing the writer without a
/// database: each `append` takes the next step; `resolveBatch` answers from the batches it saw
/// commit (or throws while `resolveFails` is set). Every other call throws: the writer never
/// makes them.
final class ScriptedStorage: LiaisonStorage {
    /// What one `append` call does.
    enum Step: Sendable {
        /// Commits the batch: seqs follow on from the last one.
        case commit
        /// Commits the batch but the connection breaks before the answer (outcome unknown).
        case commitThenLoseConnection
        /// The connection breaks before the batch reached the database (outcome unknown to the
        /// writer, but nothing committed).
        case loseConnectionBeforeCommit
        /// The database refuses the batch (e.g. a constraint), nothing committed.
        case refuse
        /// Hangs until the test calls ``release()`` (a stuck call that returns late), then throws
        /// like a timed-out statement; nothing committed.
        case block
        /// Commits the batch, then returns only when the test calls ``release()`` (a commit whose
        /// answer is slow to come back).
        case commitAndHold
        /// Commits the batch, waits for ``release()``, then the connection breaks before the
        /// answer (outcome unknown).
        case commitHoldThenLoseConnection
    }

    private struct State {
        var steps: [Step]
        var nextSeq: Int64 = 1
        var committed: [Int64: MessageLog.Appended] = [:]
        var appendCalls: [[NewMessage]] = []
        var resolveFails = false
        var resolveCalls = 0
        var blocked: CheckedContinuation<Void, Never>?
        var released = false
    }

    private let state: NIOLockedValueBox<State>

    /// - Parameter steps: What successive `append` calls do; `.commit` once they run out.
    init(_ steps: [Step] = []) {
        self.state = NIOLockedValueBox(State(steps: steps))
    }

    /// The batches `append` was called with, in order.
    var appendCalls: [[NewMessage]] { self.state.withLockedValue { $0.appendCalls } }

    /// How often `resolveBatch` was called.
    var resolveCalls: Int { self.state.withLockedValue { $0.resolveCalls } }

    /// Lets a `.block` step return (now, or as soon as it is reached).
    func release() {
        let blocked = self.state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            state.released = true
            defer { state.blocked = nil }
            return state.blocked
        }
        blocked?.resume()
    }

    /// Waits (up to 60 s) until `condition` holds for this store.
    func wait(until condition: (ScriptedStorage) -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while !condition(self) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// While true, `resolveBatch` throws as if the database were still unreachable.
    func setResolveFails(_ fails: Bool) {
        self.state.withLockedValue { $0.resolveFails = fails }
    }

    func append(
        _ batch: [NewMessage],
        token: Int64,
        dedupeWindowSeconds: Int64,
        deadline: ContinuousClock.Instant
    ) async throws -> MessageLog.Appended {
        let step = self.state.withLockedValue { state -> Step in
            state.appendCalls.append(batch)
            return state.steps.isEmpty ? .commit : state.steps.removeFirst()
        }
        switch step {
        case .commit:
            return self.store(batch, token: token)
        case .commitThenLoseConnection:
            _ = self.store(batch, token: token)
            throw StoreError(.unavailable, "server closed the connection unexpectedly")
        case .loseConnectionBeforeCommit:
            throw StoreError(.unavailable, "server closed the connection unexpectedly")
        case .refuse:
            throw StoreError(.conflict, "refused by a constraint")
        case .block:
            await self.held()
            throw StoreError(.unavailable, "statement timed out")
        case .commitAndHold:
            let appended = self.store(batch, token: token)
            await self.held()
            return appended
        case .commitHoldThenLoseConnection:
            _ = self.store(batch, token: token)
            await self.held()
            throw StoreError(.unavailable, "server closed the connection unexpectedly")
        }
    }

    /// Waits for ``release()`` (returns at once if it came already).
    private func held() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let released = self.state.withLockedValue { state -> Bool in
                if state.released { return true }
                state.blocked = continuation
                return false
            }
            if released { continuation.resume() }
        }
    }

    private func store(_ batch: [NewMessage], token: Int64) -> MessageLog.Appended {
        self.state.withLockedValue { state in
            let first = state.nextSeq
            state.nextSeq += Int64(batch.count)
            let appended = MessageLog.Appended(
                seqs: (0..<batch.count).map { first + Int64($0) },
                duplicates: Array(repeating: false, count: batch.count),
                publishedAt: Date()
            )
            state.committed[token] = appended
            return appended
        }
    }

    func resolveBatch(token: Int64, deadline: ContinuousClock.Instant) async throws -> MessageLog.Appended? {
        let (fails, found) = self.state.withLockedValue { state in
            state.resolveCalls += 1
            return (state.resolveFails, state.committed[token])
        }
        if fails { throw StoreError(.unavailable, "could not connect") }
        return found
    }

    private struct Unused: Error {}

    func authenticate(account: String, token: String) async throws -> (Account, Permissions)? { throw Unused() }
    func certificateAccount(_ name: String) async throws -> (Account, Permissions)? { throw Unused() }
    func openConsumer(_ opening: ConsumerOpening) async throws -> ConsumerBinding { throw Unused() }
    func readPage(_ request: PageRequest) async throws -> LogPage { throw Unused() }
    func messages(seqs: [Int64]) async throws -> [Message] { throw Unused() }
    func recordProgress(_ progress: [ConsumerProgress]) async throws { throw Unused() }
    func deadLetter(_ move: DeadLetterMove) async throws { throw Unused() }
    func takeReplays(account: String, consumer: String) async throws -> [Message] { throw Unused() }
    func recordSecurityEvents(_ events: [NewSecurityEvent]) async throws { throw Unused() }
    func accessVersion() async throws -> Int64 { throw Unused() }
    func recordReceipts(_ ranges: [ReceiptRange]) async throws { throw Unused() }
    func receipts(seq: Int64) async throws -> ReceiptReport? { throw Unused() }
    func permissions(accounts: [String]) async throws -> [String: Permissions?] { throw Unused() }
}

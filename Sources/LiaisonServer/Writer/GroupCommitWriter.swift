import Foundation
import LiaisonCore
import LiaisonStore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Postgres

/// Batches publishes into as few transactions as possible and answers each only after its commit.
///
/// Group commit (DESIGN.md invariant 3): while one batch is being committed on the writer's own
/// thread, new publishes queue up; when the commit returns, everything queued becomes the next
/// batch, one `liaison_append` call and one round trip. Throughput comes from the batch size
/// growing with load, never from answering early (invariant 1).
final class GroupCommitWriter: Sendable {
    /// What one publish came to: its seq, and whether it repeated an `id` (then nothing was stored).
    struct Outcome: Sendable, Equatable {
        var seq: Int64
        var duplicate: Bool
    }

    /// The outcome for one publish, or why it was not stored.
    typealias Completion = @Sendable (Result<Outcome, StoreError>) -> Void

    private struct Pending {
        var message: NewMessage
        var eventLoop: any EventLoop
        var completion: Completion
    }

    private struct State {
        var queue: [Pending] = []
        var queuedBytes = 0
        var inFlight = false
        var drainWaiters: [@Sendable () -> Void] = []
    }

    private let worker: PostgresWorker
    private let router: Router
    private let logger: Logger
    private let maxBatchCount: Int
    private let maxBatchBytes: Int
    private let dedupeWindowSeconds: Int64
    // Safe to share: the queue is guarded by this lock; the connection lives on the worker thread.
    private let state = NIOLockedValueBox(State())

    /// - Parameters:
    ///   - worker: The thread that owns the writer's database connection.
    ///   - router: Receives each committed batch for fan-out.
    ///   - maxBatchCount: At most this many messages per transaction.
    ///   - maxBatchBytes: At most about this many payload bytes per transaction.
    ///   - dedupeWindowSeconds: How long a publish `id` counts (0: as long as it is stored).
    init(
        worker: PostgresWorker,
        router: Router,
        logger: Logger,
        maxBatchCount: Int = 4096,
        maxBatchBytes: Int = 8 << 20,
        dedupeWindowSeconds: Int64 = 7 * 24 * 3600
    ) {
        self.dedupeWindowSeconds = dedupeWindowSeconds
        self.worker = worker
        self.router = router
        self.logger = logger
        self.maxBatchCount = maxBatchCount
        self.maxBatchBytes = maxBatchBytes
    }

    /// Queues a publish. `completion` runs on `eventLoop` after the batch holding it committed
    /// (`.success` with its seq and time) or failed (`.failure`, nothing of it is delivered).
    func submit(_ message: NewMessage, on eventLoop: any EventLoop, completion: @escaping Completion) {
        let start = self.state.withLockedValue { state -> Bool in
            state.queue.append(Pending(message: message, eventLoop: eventLoop, completion: completion))
            state.queuedBytes += message.payload.count
            guard !state.inFlight else { return false }
            state.inFlight = true
            return true
        }
        if start { self.commitNextBatch() }
    }

    /// Calls `done` once nothing is queued or in flight (used by graceful shutdown).
    func whenDrained(_ done: @escaping @Sendable () -> Void) {
        let now = self.state.withLockedValue { state -> Bool in
            if !state.inFlight && state.queue.isEmpty { return true }
            state.drainWaiters.append(done)
            return false
        }
        if now { done() }
    }

    private func takeBatch() -> [Pending] {
        self.state.withLockedValue { state in
            var count = 0
            var bytes = 0
            for pending in state.queue {
                if count > 0
                    && (count >= self.maxBatchCount || bytes + pending.message.payload.count > self.maxBatchBytes)
                {
                    break
                }
                count += 1
                bytes += pending.message.payload.count
            }
            let batch = Array(state.queue.prefix(count))
            state.queue.removeFirst(count)
            state.queuedBytes -= bytes
            return batch
        }
    }

    private func commitNextBatch() {
        let batch = self.takeBatch()
        let messages = batch.map(\.message)
        self.worker.submit(
            { [window = self.dedupeWindowSeconds] connection in
                try MessageLog().append(messages, dedupeWindowSeconds: window, on: connection)
            },
            completion: { result in
                switch result.mapError(StoreError.wrap) {
                case .failure(let error) where error.code != .unavailable && batch.count > 1:
                    // One bad row fails its whole transaction: commit the rows one by one so a
                    // single poison message cannot cost every other publisher in the batch.
                    self.logger.warning(
                        "batch refused, retrying its messages one by one",
                        metadata: [LogKey.error: "\(error)"]
                    )
                    self.commitOneByOne(batch[...])
                case let outcome:
                    self.finish(batch, outcome)
                }
            }
        )
    }

    private func commitOneByOne(_ rest: ArraySlice<Pending>) {
        guard let first = rest.first else { return self.finish([], .success(nil)) }
        let message = first.message
        self.worker.submit(
            { [window = self.dedupeWindowSeconds] connection in
                try MessageLog().append([message], dedupeWindowSeconds: window, on: connection)
            },
            completion: { result in
                let remaining = rest.dropFirst()
                if remaining.isEmpty {
                    self.finish([first], result.mapError(StoreError.wrap))
                } else {
                    self.deliver([first], result.mapError(StoreError.wrap))
                    self.commitOneByOne(remaining)
                }
            }
        )
    }

    /// Runs on the worker thread after the commit returned: answer, fan out, start the next batch.
    private func finish(_ batch: [Pending], _ result: Result<MessageLog.Appended?, StoreError>) {
        self.deliver(batch, result)
        self.startNextOrIdle()
    }

    /// Fans a committed batch out and answers its publishers (or answers them with the failure).
    private func deliver(_ batch: [Pending], _ result: Result<MessageLog.Appended?, StoreError>) {
        switch result {
        case .success(let appended?):
            var stored: [Message] = []
            stored.reserveCapacity(batch.count)
            for (offset, pending) in batch.enumerated() where !appended.duplicates[offset] {
                stored.append(
                    Message(
                        seq: appended.seqs[offset],
                        topic: pending.message.topic,
                        account: pending.message.account,
                        publishedAt: appended.publishedAt,
                        headers: pending.message.headers.sortedByKey(),
                        payload: pending.message.payload
                    )
                )
            }
            // Duplicates were stored before: they are neither routed nor delivered again.
            if !stored.isEmpty { self.router.publish(stored) }
            Self.complete(batch) { index in
                .success(Outcome(seq: appended.seqs[index], duplicate: appended.duplicates[index]))
            }
        case .success(nil):
            Self.complete(batch) { _ in .failure(StoreError(.database, "empty batch")) }
        case .failure(let error):
            self.logger.error(
                "publish batch failed",
                metadata: ["batch.count": "\(batch.count)", LogKey.error: "\(error)"]
            )
            Self.complete(batch) { _ in .failure(error) }
        }
    }

    private func startNextOrIdle() {
        let (next, waiters) = self.state.withLockedValue { state -> (Bool, [@Sendable () -> Void]) in
            if state.queue.isEmpty {
                state.inFlight = false
                let waiters = state.drainWaiters
                state.drainWaiters = []
                return (false, waiters)
            }
            return (true, [])
        }
        for waiter in waiters { waiter() }
        if next { self.commitNextBatch() }
    }

    /// One task per event loop per batch, not one per message.
    private static func complete(_ batch: [Pending], _ outcome: (Int) -> Result<Outcome, StoreError>) {
        var byLoop: [ObjectIdentifier: (loop: any EventLoop, calls: [(Completion, Result<Outcome, StoreError>)])] = [:]
        for (index, pending) in batch.enumerated() {
            byLoop[ObjectIdentifier(pending.eventLoop), default: (pending.eventLoop, [])].calls.append(
                (pending.completion, outcome(index))
            )
        }
        for (_, entry) in byLoop {
            let calls = entry.calls
            entry.loop.execute {
                for (completion, result) in calls { completion(result) }
            }
        }
    }
}

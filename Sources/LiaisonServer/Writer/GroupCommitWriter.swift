import Foundation
import LiaisonCore
import LiaisonStore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle

/// Commits publishes in batches and answers each only after its commit (or with the truth
/// about why not); a `Service` whose `run()` is the commit loop.
///
/// Group commit: while one batch is being committed, new publishes queue up in a
/// ``PublishBatcher``; when the commit returns, everything queued becomes the next batch.
/// Throughput comes from the batch size growing with load, never from answering early.
///
/// A batch whose connection broke or hung during its commit is *in doubt*: the writer looks its
/// token up (``LiaisonStorage/resolveBatch(token:deadline:)``) before it commits anything else,
/// so a batch that did commit is routed to live subscribers in seq order and never left
/// unrouted (docs/ARCHITECTURE.md, "Publish path"). With no publish arriving it looks again by
/// itself, every ``resolveRetryMilliseconds`` doubling to 1 s, so such a batch reaches live
/// subscribers as soon as it is known to have committed, not only with the next publish.
final class GroupCommitWriter: Service, Sendable {
    /// What one publish came to: its seq, and whether it repeated an `id` (then nothing was stored).
    struct Outcome: Sendable, Equatable {
        var seq: Int64
        var duplicate: Bool
    }

    /// The outcome for one publish, called on the publisher's event loop.
    typealias Completion = @Sendable (Result<Outcome, PublishFailure>) -> Void

    /// Whoever waits for a publish's outcome; `nil` once answered (a batch kept in doubt).
    struct Reply: Sendable {
        var eventLoop: (any EventLoop)?
        var completion: Completion

        static let answered = Reply(eventLoop: nil, completion: { _ in })
    }

    typealias Pending = PublishBatcher<Reply>.Pending

    private struct State {
        var batcher: PublishBatcher<Reply>
        var committing = false
        var waiter: CheckedContinuation<Void, Never>?
        /// Counts waits, so a retry timer wakes only the wait it was started for.
        var waits = 0
        var drainWaiters: [@Sendable () -> Void] = []
        var stopped = false
    }

    private let storage: any LiaisonStorage
    private let router: any CommitFanOut
    private let logger: Logger
    private let dedupeWindowSeconds: Int64
    private let timeoutMilliseconds: Int64
    /// The first pause (milliseconds, real time) before an idle writer looks up a batch in doubt
    /// again; it doubles up to 1 s (or stays, if longer).
    let resolveRetryMilliseconds: Int64
    /// Monotonic milliseconds: ``Monotonic/milliseconds()``, or a test's manual clock.
    private let clock: @Sendable () -> Int64
    /// Batch tokens: random high bits per daemon start, a counter below.
    private let tokens: NIOLockedValueBox<Int64>
    // Safe to share: the queue is guarded by this lock.
    private let state: NIOLockedValueBox<State>
    /// Told of each append's start and end (commit latency, batch size, readiness).
    let monitor: CommitMonitor

    /// - Parameters:
    ///   - storage: Where batches are appended.
    ///   - router: Receives each committed batch for fan-out (the ``Router``, or a ``LogFanOut``
    ///     that orders it with other daemons' commits).
    ///   - maxBatchCount: At most this many messages per transaction.
    ///   - maxBatchBytes: At most about this many payload bytes per transaction.
    ///   - dedupeWindowSeconds: How long a publish `id` counts (0: as long as it is stored).
    ///   - timeoutMilliseconds: A publish not confirmed within this is answered `ERR 503`.
    ///   - resolveRetryMilliseconds: The first pause before an idle writer looks up a batch in
    ///     doubt again (it doubles up to 1 s).
    ///   - clock: Monotonic milliseconds (tests drive deadlines with a manual one).
    ///   - monitor: Told of each append's start and end.
    init(
        storage: any LiaisonStorage,
        router: any CommitFanOut,
        logger: Logger,
        maxBatchCount: Int = 4096,
        maxBatchBytes: Int = 8 << 20,
        dedupeWindowSeconds: Int64 = 7 * 24 * 3600,
        timeoutMilliseconds: Int64 = 5_000,
        resolveRetryMilliseconds: Int64 = 250,
        clock: @escaping @Sendable () -> Int64 = { Monotonic.milliseconds() },
        monitor: CommitMonitor = CommitMonitor()
    ) {
        self.clock = clock
        self.monitor = monitor
        self.storage = storage
        self.router = router
        self.logger = logger
        self.dedupeWindowSeconds = dedupeWindowSeconds
        self.timeoutMilliseconds = timeoutMilliseconds
        self.resolveRetryMilliseconds = max(1, resolveRetryMilliseconds)
        self.tokens = NIOLockedValueBox(Int64.random(in: 1...(Int64.max >> 24)) << 20)
        self.state = NIOLockedValueBox(
            State(
                batcher: PublishBatcher(
                    maxBatchCount: maxBatchCount,
                    maxBatchBytes: maxBatchBytes,
                    timeoutMilliseconds: timeoutMilliseconds
                )
            )
        )
    }

    /// Queues a publish; `completion` runs on `eventLoop` with the outcome.
    func submit(_ message: NewMessage, on eventLoop: any EventLoop, completion: @escaping Completion) {
        let now = self.clock()
        let (waiter, refused) = self.state.withLockedValue { state -> (CheckedContinuation<Void, Never>?, Bool) in
            guard !state.stopped else { return (nil, true) }
            state.batcher.enqueue(message, now: now, reply: Reply(eventLoop: eventLoop, completion: completion))
            defer { state.waiter = nil }
            return (state.waiter, false)
        }
        if refused {
            eventLoop.execute { completion(.failure(.notStored("server shutting down"))) }
        }
        waiter?.resume()
    }

    /// Calls `done` once nothing is queued or being committed (used by graceful shutdown).
    func whenDrained(_ done: @escaping @Sendable () -> Void) {
        let now = self.state.withLockedValue { state -> Bool in
            if !state.committing && state.batcher.isEmpty { return true }
            state.drainWaiters.append(done)
            return false
        }
        if now { done() }
    }

    /// The commit loop: until graceful shutdown, and then until the queue is empty. It runs on
    /// ``StorageExecutor``, not the global pool, so nothing else in the process can stall it.
    func run() async {
        // Cancelled (another service of the group failed, e.g. a port in use): stop waiting too.
        await withTaskCancellationHandler {
            await withTaskExecutorPreference(StorageExecutor.shared) { await self.commitLoop() }
        } onCancel: {
            self.stopTaking()
        }
    }

    /// Takes no more publishes (they are answered `ERR 503`); the loop ends once the queue is empty.
    private func stopTaking() {
        let waiter = self.state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            state.stopped = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    private func commitLoop() async {
        var inDoubt: InDoubtBatch?
        await withGracefulShutdownHandler {
            var pause = self.resolveRetryMilliseconds
            while true {
                switch await self.nextBatch(retryAfter: inDoubt == nil ? nil : pause) {
                case .stopped:
                    return
                case .batch(let batch):
                    inDoubt = await self.commit(batch, after: inDoubt)
                    self.finishedBatch()
                    pause = self.resolveRetryMilliseconds
                case .idle:
                    // No publish for a while, and a batch still in doubt: look again, so a
                    // batch that committed late is routed now, not with the next publish.
                    if let doubt = inDoubt,
                        await self.lookUp(doubt, until: self.clock() + self.timeoutMilliseconds) == .resolved
                    {
                        inDoubt = nil
                    }
                    pause = min(pause * 2, max(self.resolveRetryMilliseconds, 1_000))
                }
            }
        } onGracefulShutdown: {
            self.stopTaking()
        }
        if let inDoubt {
            // One last look, so a committed batch is at least logged with its seqs.
            _ = await self.resolve(inDoubt, until: self.clock() + self.timeoutMilliseconds)
        }
        self.logger.info("writer stopped")
    }

    /// What the commit loop does next.
    private enum Next {
        /// Commit these.
        case batch([Pending])
        /// Nothing came within the retry pause.
        case idle
        /// Stopped with nothing left.
        case stopped
    }

    /// Waits for publishes, or (with `retryAfter`, milliseconds) at most about that long.
    private func nextBatch(retryAfter: Int64?) async -> Next {
        var waited = false
        while true {
            let now = self.clock()
            let (taken, expired, stopped) = self.state.withLockedValue { state -> ([Pending], [Pending], Bool) in
                let (batch, expired) = state.batcher.takeBatch(now: now)
                state.committing = !batch.isEmpty
                return (batch, expired, state.stopped)
            }
            // Still queued at their deadline: never sent to the database, so certainly not stored.
            Self.answer(expired) { _ in .failure(.notStored("waited longer than the publish timeout for the database"))
            }
            if !taken.isEmpty { return .batch(taken) }
            self.wakeDrainWaiters()
            if stopped { return .stopped }
            if waited && retryAfter != nil { return .idle }
            await self.waitForPublishes(atMost: retryAfter)
            waited = true
        }
    }

    /// Sleeps until a publish is queued or the writer stops, or `milliseconds` pass.
    private func waitForPublishes(atMost milliseconds: Int64?) async {
        var timer: Task<Void, Never>?
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let wait = self.state.withLockedValue { state -> Int? in
                if !state.batcher.isEmpty || state.stopped { return nil }
                state.waiter = continuation
                state.waits &+= 1
                return state.waits
            }
            guard let wait else { return continuation.resume() }
            guard let milliseconds else { return }
            timer = Task {
                try? await Task.sleep(for: .milliseconds(milliseconds))
                let waiter = self.state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
                    guard state.waits == wait else { return nil }
                    defer { state.waiter = nil }
                    return state.waiter
                }
                waiter?.resume()
            }
        }
        timer?.cancel()
    }

    private func finishedBatch() {
        self.state.withLockedValue { $0.committing = false }
    }

    private func wakeDrainWaiters() {
        let waiters = self.state.withLockedValue { state -> [@Sendable () -> Void] in
            defer { state.drainWaiters = [] }
            return state.drainWaiters
        }
        for waiter in waiters { waiter() }
    }

    private func nextToken() -> Int64 {
        self.tokens.withLockedValue {
            $0 &+= 1
            return $0
        }
    }

    /// A deadline on ``clock`` as an instant for the store's calls.
    private func instant(_ milliseconds: Int64) -> ContinuousClock.Instant {
        .now + .milliseconds(milliseconds - self.clock())
    }

    /// The publish deadline of a batch: that of its oldest publish, but never in the past.
    private func deadline(of batch: [Pending]) -> Int64 {
        let oldest = batch.map(\.queuedAt).min() ?? self.clock()
        return max(oldest + self.timeoutMilliseconds, self.clock() + 50)
    }

    /// Commits one batch (first resolving a batch left in doubt); returns what is in doubt now.
    private func commit(_ batch: [Pending], after inDoubt: InDoubtBatch?) async -> InDoubtBatch? {
        let deadline = self.deadline(of: batch)
        if let inDoubt {
            switch await self.resolve(inDoubt, until: deadline) {
            case .resolved: break
            case .unknown:
                // Nothing may commit before the earlier batch is known (or its seqs would reach
                // live subscribers out of order): these were never sent.
                Self.answer(batch) { _ in .failure(.notStored("database unavailable")) }
                return inDoubt
            }
        }
        return await self.append(batch, deadline: deadline)
    }

    private func append(_ batch: [Pending], deadline: Int64) async -> InDoubtBatch? {
        let token = self.nextToken()
        let monitored = self.monitor.started()
        self.router.appendStarted()
        do {
            let appended = try await self.storage.append(
                batch.map(\.message),
                token: token,
                dedupeWindowSeconds: self.dedupeWindowSeconds,
                deadline: self.instant(deadline)
            )
            self.monitor.finished(monitored, messages: batch.count, succeeded: true)
            self.deliver(batch, appended, appendEnded: true)
            return nil
        } catch {
            self.router.appendEnded(stored: [])
            self.monitor.finished(monitored, messages: batch.count, succeeded: false)
            let error = StoreError.wrap(error)
            if error.outcomeUnknown {
                self.logger.warning(
                    "batch commit interrupted, looking up its outcome",
                    metadata: ["batch.count": "\(batch.count)", LogKey.error: "\(error)"]
                )
                let doubt = InDoubtBatch(token: token, batch: batch)
                switch await self.resolve(doubt, until: deadline) {
                case .resolved: return nil
                case .unknown:
                    Self.answer(batch) { _ in .failure(.outcomeUnknown) }
                    let answered = batch.map { Pending(message: $0.message, queuedAt: $0.queuedAt, reply: .answered) }
                    return InDoubtBatch(token: token, batch: answered)
                }
            }
            if error.code != .unavailable && batch.count > 1 {
                // One bad row fails its whole transaction: commit the rows one by one so a
                // single poison message cannot cost every other publisher in the batch.
                self.logger.warning(
                    "batch refused, retrying its messages one by one",
                    metadata: [LogKey.error: "\(error)"]
                )
                for pending in batch {
                    if let doubt = await self.append([pending], deadline: deadline) { return doubt }
                }
                return nil
            }
            self.logger.error(
                "publish batch failed",
                metadata: ["batch.count": "\(batch.count)", LogKey.error: "\(error)"]
            )
            Self.answer(batch) { _ in .failure(.notStored(error.message)) }
            return nil
        }
    }

    private enum Resolution { case resolved, unknown }

    /// Looks up a batch in doubt until it is known or `deadline` passes; a committed one is
    /// routed and answered, an uncommitted one answered `not stored`.
    private func resolve(_ doubt: InDoubtBatch, until deadline: Int64) async -> Resolution {
        var pause: Int64 = 100
        while true {
            let remaining = deadline - self.clock()
            guard remaining > 0 else { return .unknown }
            if await self.lookUp(doubt, until: deadline) == .resolved { return .resolved }
            try? await Task.sleep(for: .milliseconds(min(pause, max(1, remaining))))
            pause = min(pause * 2, 1_000)
        }
    }

    /// Looks up a batch in doubt once (by `deadline`); a committed one is routed and answered,
    /// an uncommitted one answered `not stored`; `.unknown` when the store did not answer.
    private func lookUp(_ doubt: InDoubtBatch, until deadline: Int64) async -> Resolution {
        let found: MessageLog.Appended?
        do {
            found = try await self.storage.resolveBatch(token: doubt.token, deadline: self.instant(deadline))
        } catch {
            return .unknown
        }
        if let found {
            self.logger.notice(
                "interrupted batch had committed: routing it",
                metadata: ["batch.count": "\(doubt.batch.count)"]
            )
            self.deliver(doubt.batch, found, appendEnded: false)
        } else {
            self.logger.notice(
                "interrupted batch had not committed",
                metadata: ["batch.count": "\(doubt.batch.count)"]
            )
            Self.answer(doubt.batch) { _ in .failure(.notStored("connection lost before commit")) }
        }
        return .resolved
    }

    /// Fans a committed batch out and answers its publishers; `appendEnded` when it is the
    /// answer of the append just sent (not a batch in doubt looked up later).
    private func deliver(_ batch: [Pending], _ appended: MessageLog.Appended, appendEnded: Bool) {
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
        if appendEnded {
            self.router.appendEnded(stored: stored)
        } else {
            self.router.committed(stored)
        }
        Self.answer(batch) { index in
            .success(Outcome(seq: appended.seqs[index], duplicate: appended.duplicates[index]))
        }
    }

    /// One task per event loop per batch, not one per message.
    private static func answer(_ batch: [Pending], _ outcome: (Int) -> Result<Outcome, PublishFailure>) {
        var byLoop: [ObjectIdentifier: (loop: any EventLoop, calls: [(Completion, Result<Outcome, PublishFailure>)])] =
            [:]
        for (index, pending) in batch.enumerated() {
            guard let loop = pending.reply.eventLoop else { continue }
            byLoop[ObjectIdentifier(loop), default: (loop, [])].calls.append(
                (pending.reply.completion, outcome(index))
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

/// A batch whose commit was interrupted: its token, and its messages (to route if it committed).
struct InDoubtBatch: Sendable {
    var token: Int64
    var batch: [GroupCommitWriter.Pending]
}

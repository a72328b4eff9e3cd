import DequeModule
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
/// Group commit: while batches are being committed, new publishes queue up in a
/// ``PublishBatcher``; when there is room, everything queued becomes the next batch.
/// Throughput comes from the batch size growing with load, never from answering early.
///
/// Up to ``inFlightBatches`` batches are in flight at once (each on a connection of its own), so
/// the next batch is built, sent and waiting on the append lock while the previous one commits;
/// their outcomes are settled in the order they were sent, which is seq order, because
/// `liaison_append` holds the append lock from taking seqs to its commit
/// (docs/ARCHITECTURE.md, "Publish path" and invariant 2).
///
/// A batch whose connection broke or hung during its commit is *in doubt*: the writer looks its
/// token up (``LiaisonStorage/resolveBatch(token:deadline:)``) before it sends anything else,
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
        /// Tokens of appends whose storage call returned and whose outcome is not settled yet.
        var finished: Set<Int64> = []
    }

    let storage: any LiaisonStorage
    let router: any CommitFanOut
    let logger: Logger
    let dedupeWindowSeconds: Int64
    let timeoutMilliseconds: Int64
    /// At most this many batches sent and not yet settled (1: one at a time).
    let inFlightBatches: Int
    /// The first pause (milliseconds, real time) before an idle writer looks up a batch in doubt
    /// again; it doubles up to 1 s (or stays, if longer).
    let resolveRetryMilliseconds: Int64
    /// Monotonic milliseconds: ``Monotonic/milliseconds()``, or a test's manual clock.
    let clock: @Sendable () -> Int64
    /// Batch tokens: random high bits per daemon start, a counter below.
    let tokens: NIOLockedValueBox<Int64>
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
    ///   - inFlightBatches: At most this many batches in flight at once (at least 1); the store
    ///     should have as many writer connections.
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
        inFlightBatches: Int = 1,
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
        self.inFlightBatches = max(1, inFlightBatches)
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
        // In send order. More than one only with batches in flight: one sent behind a batch in
        // doubt can be interrupted too, and each must be looked up (and logged) in its turn.
        var inDoubt: [InDoubtBatch] = []
        var inFlight = Deque<InFlightAppend>()
        // One batch alone until the first one returned: the store learns the order of the
        // tokens from the first batch it sees (``LiaisonStorage/append``), so that must be the
        // first one sent.
        var window = 1
        await withGracefulShutdownHandler {
            var pause = self.resolveRetryMilliseconds
            while true {
                // Outcomes are taken in the order the batches were sent, which is seq order
                // (the append lock), so the fan-out sees them in that order.
                if let first = inFlight.first, self.isFinished(first) {
                    inFlight.removeFirst()
                    window = self.inFlightBatches
                    if let doubt = await self.settle(first) { inDoubt.append(doubt) }
                    if inFlight.isEmpty { self.finishedBatch() }
                    pause = self.resolveRetryMilliseconds
                    continue
                }
                // Nothing new is sent while an earlier batch is in doubt (the batches already
                // sent behind it are taken in order all the same).
                if inDoubt.isEmpty && inFlight.count < window, let batch = self.takeQueued() {
                    inFlight.append(self.send(batch))
                    continue
                }
                if let first = inFlight.first {
                    await self.waitForEvent(
                        publishes: inDoubt.isEmpty && inFlight.count < window,
                        finished: first.token
                    )
                    continue
                }
                switch await self.nextBatch(retryAfter: inDoubt.isEmpty ? nil : pause) {
                case .stopped:
                    return
                case .batch(let batch):
                    if !inDoubt.isEmpty {
                        inDoubt = await self.commit(batch, after: inDoubt)
                        self.finishedBatch()
                    } else {
                        inFlight.append(self.send(batch))
                    }
                    pause = self.resolveRetryMilliseconds
                case .idle:
                    // No publish for a while, and a batch still in doubt: look again, so a
                    // batch that committed late is routed now, not with the next publish.
                    inDoubt = await self.resolve(
                        inDoubt,
                        until: self.clock() + self.timeoutMilliseconds,
                        patiently: false
                    )
                    pause = min(pause * 2, max(self.resolveRetryMilliseconds, 1_000))
                }
            }
        } onGracefulShutdown: {
            self.stopTaking()
        }
        // One last look, so a committed batch is at least logged with its seqs.
        _ = await self.resolve(inDoubt, until: self.clock() + self.timeoutMilliseconds, patiently: true)
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

    /// Takes the next batch if any publish is queued, without waiting; answers the expired ones.
    private func takeQueued() -> [Pending]? {
        let now = self.clock()
        let (taken, expired) = self.state.withLockedValue { state -> ([Pending], [Pending]) in
            let (batch, expired) = state.batcher.takeBatch(now: now)
            if !batch.isEmpty { state.committing = true }
            return (batch, expired)
        }
        // Still queued at their deadline: never sent to the database, so certainly not stored.
        Self.answer(expired) { _ in .failure(.notStored("waited longer than the publish timeout for the database")) }
        return taken.isEmpty ? nil : taken
    }

    /// Waits for publishes, or (with `retryAfter`, milliseconds) at most about that long.
    private func nextBatch(retryAfter: Int64?) async -> Next {
        var waited = false
        while true {
            if let taken = self.takeQueued() { return .batch(taken) }
            self.wakeDrainWaiters()
            if self.state.withLockedValue({ $0.stopped }) { return .stopped }
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

    /// Sleeps until the append under `token` returned or (with `publishes`) a publish is queued.
    private func waitForEvent(publishes: Bool, finished token: Int64) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = self.state.withLockedValue { state -> Bool in
                if state.finished.contains(token) { return true }
                if publishes && !state.batcher.isEmpty { return true }
                state.waiter = continuation
                state.waits &+= 1
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// Whether the storage call of an append in flight returned (its outcome waits to be settled).
    func isFinished(_ append: InFlightAppend) -> Bool {
        self.state.withLockedValue { $0.finished.contains(append.token) }
    }

    /// Called by an append's task when its storage call returned: wakes the loop.
    func appendReturned(token: Int64) {
        let waiter = self.state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            state.finished.insert(token)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Forgets a settled append's token.
    func settled(token: Int64) {
        self.state.withLockedValue { _ = $0.finished.remove(token) }
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
}

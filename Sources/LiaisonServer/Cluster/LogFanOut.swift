import LiaisonCore
import LiaisonStore
import Logging
import NIOConcurrencyHelpers

/// Runs a ``LogSequencer``: feeds it this daemon's committed batches, the follower's
/// notifications and polls, and the answers of the reads it asks for; routes what it releases.
///
/// Routing happens under the sequencer's lock, so the router receives batches in release order
/// whichever thread (the writer's loop, a read's task) released them: per-connection order stays
/// seq order (the router submits one task per batch to each connection's event loop).
final class LogFanOut: CommitFanOut, Sendable {
    private let router: Router
    private let storage: any LogFollowing
    private let logger: Logger
    // Safe to share: the sequencer is only touched under this lock.
    private let sequencer: NIOLockedValueBox<LogSequencer>
    /// Whether the last read failed (so one outage logs once, not at every retry).
    private let failing = NIOLockedValueBox(false)

    /// - Parameters:
    ///   - router: Receives the released messages.
    ///   - storage: Answers the sequencer's reads.
    ///   - pageSize: Rows per read.
    init(router: Router, storage: any LogFollowing, pageSize: Int = 1_000, logger: Logger) {
        self.router = router
        self.storage = storage
        self.logger = logger
        self.sequencer = NIOLockedValueBox(LogSequencer(pageSize: pageSize))
    }

    func appendStarted() {
        self.sequencer.withLockedValue { $0.appendStarted() }
    }

    func appendEnded(stored: [Message]) {
        self.run { $0.appendEnded(stored: stored) }
    }

    func committed(_ stored: [Message]) {
        self.run { $0.committed(stored) }
    }

    /// The follower started: learn where the log is.
    func start() {
        self.run { $0.start() }
    }

    /// A notification said a batch ending at `lastSeq` committed.
    func notified(lastSeq: Int64) {
        self.run { $0.notified(lastSeq: lastSeq) }
    }

    /// The poll interval passed (or the channel was reopened): look past what was released.
    func pollDue() {
        self.run { $0.pollDue() }
    }

    private func run(_ event: (inout LogSequencer) -> [LogSequencer.Action]) {
        let reads = self.sequencer.withLockedValue { sequencer -> [LogSequencer.Action] in
            var reads: [LogSequencer.Action] = []
            for action in event(&sequencer) {
                if case .route(let messages) = action {
                    self.router.publish(messages)
                } else {
                    reads.append(action)
                }
            }
            return reads
        }
        for read in reads { self.perform(read) }
    }

    private func perform(_ action: LogSequencer.Action) {
        switch action {
        case .route:
            break
        case .readHead:
            Task(executorPreference: StorageExecutor.shared) {
                do {
                    let head = try await self.storage.headSeq()
                    self.succeeded()
                    self.run { $0.headRead(head) }
                } catch {
                    self.failed(error)
                }
            }
        case .read(let after, let before):
            let limit = self.sequencer.withLockedValue { $0.pageSize }
            Task(executorPreference: StorageExecutor.shared) {
                do {
                    let rows = try await self.storage.committed(after: after, before: before, limit: limit)
                    self.succeeded()
                    self.run { $0.pageRead(rows) }
                } catch {
                    self.failed(error)
                }
            }
        }
    }

    private func succeeded() {
        if self.failing.withLockedValue({ state in
            defer { state = false }
            return state
        }) {
            self.logger.notice("following the log again")
        }
    }

    /// The next poll retries the read.
    private func failed(_ error: any Error) {
        self.sequencer.withLockedValue { $0.readFailed() }
        let first = self.failing.withLockedValue { state in
            defer { state = true }
            return !state
        }
        if first {
            self.logger.warning(
                "cannot follow the log; retrying at every poll",
                metadata: [LogKey.error: "\(error)"]
            )
        }
    }
}

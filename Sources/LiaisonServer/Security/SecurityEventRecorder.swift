import Foundation
import LiaisonCore
import LiaisonStore
import Logging
import NIOConcurrencyHelpers

/// Writes security events (authentications, refusals) to the audit table off the event loops,
/// batched: at most one insert in flight, carrying everything recorded meanwhile.
///
/// Executes the actions of a ``RecorderState``: a failed insert is retried with back-off and loses
/// nothing; while the database is down at most ``capacity`` events are held, and the ones beyond
/// are counted and recorded as one `audit.dropped` event (and logged) once the database takes
/// writes again (docs/AUDIT.md, "What the daemon cannot write").
final class SecurityEventRecorder: Sendable {
    /// Events held at most while the database is unreachable (about 2 MB of memory).
    static let capacity = 10_000

    private let storage: any LiaisonStorage
    private let logger: Logger
    private let capacity: Int
    // Safe to share: the state is guarded by the lock.
    private let state: NIOLockedValueBox<RecorderState<NewSecurityEvent>>

    /// Creates the recorder.
    ///
    /// - Parameter capacity: Events held at most (tests lower it).
    init(storage: any LiaisonStorage, logger: Logger, capacity: Int = SecurityEventRecorder.capacity) {
        self.storage = storage
        self.logger = logger
        self.capacity = capacity
        self.state = NIOLockedValueBox(RecorderState(capacity: capacity))
    }

    /// Queues one event; never blocks.
    func record(_ kind: SecurityEventKind, account: String?, remote: String?, reason: String) {
        let now = Date()
        let event = NewSecurityEvent(kind: kind, account: account, remote: remote, reason: reason, at: now)
        let action = self.state.withLockedValue { $0.record(event, kind: kind.rawValue, at: now) }
        self.execute(action)
    }

    private func execute(_ action: RecorderState<NewSecurityEvent>.Action) {
        switch action {
        case .none:
            return
        case .startedDropping(let capacity):
            self.logger.error(
                "security events dropped: \(capacity) are waiting for the database; counting the rest for an audit.dropped event"
            )
        case .write(let batch, let dropped):
            self.write(batch, dropped: dropped)
        case .retry(let delay, let attempt):
            Task(executorPreference: StorageExecutor.shared) {
                try? await Task.sleep(for: delay)
                self.execute(self.state.withLockedValue { $0.retryDue() })
            }
            if attempt == 1 || attempt % 10 == 0 {
                self.logger.warning(
                    "security events not recorded yet; retrying",
                    metadata: ["liaison.attempt": "\(attempt)", "liaison.retry": "\(delay)"]
                )
            }
        }
    }

    private func write(_ batch: [NewSecurityEvent], dropped: RecorderState<NewSecurityEvent>.DropTally?) {
        let storage = self.storage
        let report = dropped.map { Self.droppedEvent($0, capacity: self.capacity) }
        let events = batch + (report.map { [$0] } ?? [])
        Task(executorPreference: StorageExecutor.shared) {
            let next: RecorderState<NewSecurityEvent>.Action
            do {
                try await storage.recordSecurityEvents(events)
                if let report {
                    self.logger.error("\(report.reason)")
                }
                next = self.state.withLockedValue { $0.writeSucceeded() }
            } catch {
                self.logger.debug(
                    "security events insert failed",
                    metadata: ["liaison.events": "\(events.count)", LogKey.error: "\(error)"]
                )
                next = self.state.withLockedValue { $0.writeFailed() }
            }
            self.execute(next)
        }
    }

    /// The `audit.dropped` event for a tally, e.g. `42 security events could not be recorded
    /// between … and … (auth.failed 40, pub.refused 2): more than 10000 were waiting for the database`.
    static func droppedEvent(_ tally: RecorderState<NewSecurityEvent>.DropTally, capacity: Int) -> NewSecurityEvent {
        NewSecurityEvent(
            kind: .auditDropped,
            account: nil,
            remote: nil,
            reason: """
                \(tally.count) security event\(tally.count == 1 ? "" : "s") could not be recorded between \
                \(RFC3339.format(tally.first)) and \(RFC3339.format(tally.last)) (\(tally.kindsText)): \
                more than \(capacity) were waiting for the database
                """
        )
    }
}

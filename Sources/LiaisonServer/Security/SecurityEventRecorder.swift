import LiaisonStore
import Logging
import NIOConcurrencyHelpers

/// Writes security events (authentications, refusals) to the audit table off the event loops,
/// batched: at most one insert in flight, carrying everything recorded meanwhile.
final class SecurityEventRecorder: Sendable {
    typealias Event = (kind: SecurityEventKind, account: String?, remote: String?, reason: String)

    private struct State {
        var queue: [Event] = []
        var writing = false
    }

    private let storage: any LiaisonStorage
    private let logger: Logger
    // Safe to share: the queue is guarded by the lock.
    private let state = NIOLockedValueBox(State())
    /// Events beyond this many waiting are dropped (and logged): an outage must not grow memory.
    private let maxQueued = 10_000

    init(storage: any LiaisonStorage, logger: Logger) {
        self.storage = storage
        self.logger = logger
    }

    /// Queues one event; never blocks.
    func record(_ kind: SecurityEventKind, account: String?, remote: String?, reason: String) {
        let start = self.state.withLockedValue { state -> Bool in
            guard state.queue.count < self.maxQueued else { return false }
            state.queue.append((kind, account, remote, reason))
            guard !state.writing else { return false }
            state.writing = true
            return true
        }
        if start { self.writeBatch() }
    }

    private func writeBatch() {
        let batch = self.state.withLockedValue { state -> [Event] in
            defer { state.queue.removeAll() }
            return state.queue
        }
        let storage = self.storage
        Task(executorPreference: StorageExecutor.shared) {
            do {
                try await storage.recordSecurityEvents(
                    batch.map {
                        NewSecurityEvent(kind: $0.kind, account: $0.account, remote: $0.remote, reason: $0.reason)
                    }
                )
            } catch {
                self.logger.error(
                    "security events not recorded",
                    metadata: ["liaison.events": "\(batch.count)", LogKey.error: "\(error)"]
                )
            }
            let more = self.state.withLockedValue { state -> Bool in
                if state.queue.isEmpty {
                    state.writing = false
                    return false
                }
                return true
            }
            if more { self.writeBatch() }
        }
    }
}

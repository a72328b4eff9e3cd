import NIOConcurrencyHelpers
import Prometheus

/// What the group-commit writer reports of its commits: each batch's latency and size (to the
/// metrics) and the batch in flight now (for readiness: a commit that has run longer than the
/// publish timeout means the writer is stalled).
final class CommitMonitor: Sendable {
    private let metrics: ServerMetrics?
    /// Start times (``ContinuousClock``) of the appends in flight, by a running number.
    private let inFlight = NIOLockedValueBox<(next: Int, started: [Int: ContinuousClock.Instant])>((0, [:]))

    /// - Parameter metrics: Where latencies and batch sizes go; `nil` records nothing (tests).
    init(metrics: ServerMetrics? = nil) {
        self.metrics = metrics
    }

    /// An append starts; pass the result to ``finished(_:messages:succeeded:)``.
    func started() -> Int {
        let now = ContinuousClock.now
        return self.inFlight.withLockedValue { state in
            state.next += 1
            state.started[state.next] = now
            return state.next
        }
    }

    /// An append returned: committed (`succeeded`) with `messages` rows, or failed.
    func finished(_ append: Int, messages: Int, succeeded: Bool) {
        guard let started = self.inFlight.withLockedValue({ $0.started.removeValue(forKey: append) }) else { return }
        guard let metrics else { return }
        if succeeded {
            metrics.commitSeconds.record(ContinuousClock.now - started)
            metrics.batchMessages.record(Double(messages))
        } else {
            metrics.databaseErrors.increment()
        }
    }

    /// How long the oldest append in flight has run; `nil` when none is.
    func oldestInFlight(now: ContinuousClock.Instant = .now) -> Duration? {
        self.inFlight.withLockedValue { state in state.started.values.min().map { now - $0 } }
    }
}

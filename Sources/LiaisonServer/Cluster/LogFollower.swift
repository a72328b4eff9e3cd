import LiaisonStore
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Wakes the ``LogFanOut`` when another daemon (or this one) commits: a `Service` that waits
/// for `liaison_append`'s notifications (one per batch, migration 0011) on a libpq thread of its
/// own, and every ``pollMilliseconds`` without one tells the fan-out to look at the log anyway
/// (a notification lost with a broken connection, a database restart). Through an outage it
/// keeps polling; reads start again from the highest seq released, so nothing is skipped.
final class LogFollower: Service, Sendable {
    private let fanOut: LogFanOut
    private let storage: any LogFollowing
    private let logger: Logger
    /// The longest wait for a notification before looking at the log anyway, in milliseconds.
    let pollMilliseconds: Int
    private let stopped = NIOLockedValueBox(false)

    /// - Parameters:
    ///   - fanOut: Told of notifications and polls.
    ///   - storage: Where notifications are waited for.
    ///   - pollMilliseconds: The longest wait before looking at the log anyway (at least 10).
    init(fanOut: LogFanOut, storage: any LogFollowing, pollMilliseconds: Int = 200, logger: Logger) {
        self.fanOut = fanOut
        self.storage = storage
        self.pollMilliseconds = max(10, pollMilliseconds)
        self.logger = logger
    }

    /// Follows until graceful shutdown or cancellation, and then returns at once: a wait or read
    /// still out on a hung database finishes by its own deadline, never holding up the shutdown.
    func run() async {
        let loop = Task(executorPreference: StorageExecutor.shared) { await self.follow() }
        try? await gracefulShutdown()
        self.stopped.withLockedValue { $0 = true }
        loop.cancel()
        self.logger.info("log follower stopped")
    }

    private func follow() async {
        self.fanOut.start()
        var failing = false
        while !self.stopped.withLockedValue({ $0 }) && !Task.isCancelled {
            do {
                let notified = try await self.storage.waitForCommits(timeoutMilliseconds: self.pollMilliseconds)
                failing = false
                if let notified {
                    self.fanOut.notified(lastSeq: notified)
                } else {
                    self.fanOut.pollDue()
                }
            } catch {
                if !failing {
                    self.logger.warning(
                        "cannot listen for commits; polling the log",
                        metadata: [LogKey.error: "\(error)"]
                    )
                }
                failing = true
                try? await Task.sleep(for: .milliseconds(self.pollMilliseconds))
                self.fanOut.pollDue()
            }
        }
    }
}

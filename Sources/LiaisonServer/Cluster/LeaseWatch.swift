import LiaisonStore
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Keeps durable consumer leases honest across a database reconnect: a `Service` that every
/// ``intervalMilliseconds`` has the consumer thread check its connection and, on a new one, take
/// every held lease again (``ConsumerLeasing/checkConsumerLeases()``). A lease another daemon took
/// meanwhile is lost: the connection of this daemon that held it is closed, so two connections
/// never go on sharing the consumer (its client reconnects and gets `ERR 409` until it is free).
final class LeaseWatch: Service, Sendable {
    private let leases: any ConsumerLeasing
    private let durables: DurableRegistry
    private let logger: Logger
    /// Milliseconds between checks.
    let intervalMilliseconds: Int
    private let stopped = NIOLockedValueBox(false)

    /// - Parameters:
    ///   - leases: The store's leases.
    ///   - durables: Closes the connections of lost leases.
    ///   - intervalMilliseconds: Between checks (at least 100).
    init(leases: any ConsumerLeasing, durables: DurableRegistry, intervalMilliseconds: Int = 1_000, logger: Logger) {
        self.leases = leases
        self.durables = durables
        self.intervalMilliseconds = max(100, intervalMilliseconds)
        self.logger = logger
    }

    /// Checks until graceful shutdown or cancellation, and then returns at once (a check still
    /// out on a hung database finishes by its own deadline).
    func run() async {
        let loop = Task(executorPreference: StorageExecutor.shared) { await self.watch() }
        try? await gracefulShutdown()
        self.stopped.withLockedValue { $0 = true }
        loop.cancel()
    }

    private func watch() async {
        while !self.stopped.withLockedValue({ $0 }) && !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(self.intervalMilliseconds))
            guard let lost = try? await self.leases.checkConsumerLeases() else { continue }
            for (account, name) in lost {
                self.logger.warning(
                    "durable consumer lease lost while reconnecting to the database; closing its connection",
                    metadata: ["account": "\(account)", "durable": "\(name)"]
                )
                self.durables.lost(account: account, name: name)
            }
        }
    }
}

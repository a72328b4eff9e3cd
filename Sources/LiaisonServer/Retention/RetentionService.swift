public import LiaisonStore
public import Logging
public import ServiceLifecycle

/// Purges messages past their retention and expires dedupe keys past their window: a service of
/// the daemon's `ServiceGroup` (docs/AUDIT.md "Retention", docs/ARCHITECTURE.md "Services").
///
/// Every `retention.intervalSeconds` it runs one pass, a series of short transactions on a
/// connection of its own (``RetentionPurging``): never the writer's, never under the append lock,
/// so publishing goes on. Only one purger per database runs at a time (the purge lock): another
/// daemon's service, or a `liaisonctl retention run`, makes this pass a no-op. A failure is logged
/// and the next pass starts over; it never stops the daemon.
public struct RetentionService: Service {
    private let storage: any RetentionPurging
    private let settings: RetentionSettings
    private let options: PurgeOptions
    private let logger: Logger

    /// Creates the service.
    ///
    /// - Parameters:
    ///   - storage: Where passes run.
    ///   - settings: Interval and batch size.
    ///   - runBy: Recorded as who ran each pass (`liaisond <node name>`).
    ///   - dedupeWindowSeconds: The daemon's dedupe window: older keys are expired; 0 keeps them.
    ///   - logger: Where each pass's outcome goes.
    public init(
        storage: any RetentionPurging,
        settings: RetentionSettings,
        runBy: String,
        dedupeWindowSeconds: Int64,
        logger: Logger
    ) {
        self.storage = storage
        self.settings = settings
        self.options = PurgeOptions(
            runBy: runBy,
            batchSize: settings.batchSize,
            dedupeWindowSeconds: dedupeWindowSeconds > 0 ? dedupeWindowSeconds : nil
        )
        self.logger = logger
    }

    public func run() async {
        let interval = Duration.seconds(self.settings.intervalSeconds)
        while !Self.stopping {
            await self.pass()
            // Cut short by graceful shutdown, so the daemon never waits out the interval.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }

    private static var stopping: Bool { Task.isShuttingDownGracefully || Task.isCancelled }

    /// One pass; logs what it did or why it failed.
    func pass() async {
        do {
            guard var pass = try await self.storage.beginPurge(self.options) else {
                self.logger.debug("retention pass skipped: another purger holds the purge lock")
                return
            }
            while !pass.isDone, !Self.stopping {
                pass = try await self.storage.purgeStep(pass)
            }
            try await self.storage.endPurge(pass)
            if pass.purged > 0 || pass.dedupeKeys > 0 || pass.mismatched > 0 {
                self.logger.info(
                    "retention pass",
                    metadata: [
                        "purged": "\(pass.purged)", "held": "\(pass.held)", "dedupeKeys": "\(pass.dedupeKeys)",
                        "mismatched": "\(pass.mismatched)", "throughSeq": "\(pass.ceiling)",
                    ]
                )
            }
        } catch {
            await self.storage.abandonPurge()
            self.logger.warning("retention pass failed; the next one starts over", metadata: ["error": "\(error)"])
        }
    }
}

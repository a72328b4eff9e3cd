public import Foundation
public import LiaisonStore
public import Logging
public import ServiceLifecycle

/// Seals the message log: a service of the daemon's `ServiceGroup` that, off the publish path,
/// hashes newly committed messages into the RFC 9162 Merkle tree and signs checkpoints
/// (docs/AUDIT.md, docs/ARCHITECTURE.md "Services").
///
/// It never touches the writer: it reads committed rows on a libpq thread of its own, after the
/// seq it sealed last (commit order is seq order, invariant 2, so nothing is skipped), and only
/// the daemon holding the seal lock seals. Any failure (database down, lock lost, another sealer
/// ahead) drops the in-memory state; the next step resumes from the database after a back-off
/// growing to 5 s. It never crashes the daemon.
public struct LogSealer: Service {
    private let storage: any LogSealing
    private let key: AuditSigningKey
    private let settings: AuditSettings
    private let logger: Logger
    private let clock: @Sendable () -> Int64

    /// Creates the sealer.
    ///
    /// - Parameters:
    ///   - storage: Where rows are read and seals stored.
    ///   - key: The checkpoint signing key.
    ///   - settings: Checkpoint policy, poll interval, page size.
    ///   - logger: Where sealing progress and failures go.
    ///   - clock: Now, in microseconds since the Unix epoch (tests pass their own).
    public init(
        storage: any LogSealing,
        key: AuditSigningKey,
        settings: AuditSettings,
        logger: Logger,
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1_000_000) }
    ) {
        self.storage = storage
        self.key = key
        self.settings = settings
        self.logger = logger
        self.clock = clock
    }

    public func run() async {
        // On the global pool, not the daemon's StorageExecutor: the few milliseconds of hashing
        // per page must never queue in front of the writer's and the sessions' continuations.
        do {
            var state: SealerState?
            var events: SealerState?
            var failures = 0
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                let pause: Duration
                do {
                    // The messages' tree, then the security events' (docs/AUDIT.md, "Security events").
                    let busyMessages = try await self.step(&state, log: .messages)
                    let busy = try await self.step(&events, log: .securityEvents) || busyMessages
                    if failures > 0 {
                        self.logger.info("sealer resumed", metadata: ["sealed": "\(state?.range.size ?? 0)"])
                    }
                    failures = 0
                    pause = busy ? .zero : .milliseconds(self.settings.sealIntervalMilliseconds)
                } catch {
                    state = nil
                    events = nil
                    failures += 1
                    // Log the first failure and then every 20th, not every 250 ms of an outage.
                    if failures == 1 || failures % 20 == 0 {
                        self.logger.warning(
                            "sealer paused",
                            metadata: ["error": "\(error)", "failures": "\(failures)"]
                        )
                    }
                    pause = .milliseconds(min(5_000, 250 << min(failures - 1, 5)))
                }
                if pause > .zero { try? await Task.sleep(for: pause) }
            }
        }
    }

    /// One sealing step of one log's tree: claim the lock, (re)load the state, seal one page,
    /// sign when due.
    ///
    /// - Returns: Whether a full page was read (more is waiting: go on at once).
    func step(_ state: inout SealerState?, log: AuditedLog) async throws -> Bool {
        guard try await self.storage.claimSealing() else {
            // Another daemon seals this database; keep asking, it may go away.
            state = nil
            return false
        }
        var current: SealerState
        if let state { current = state } else { current = try await self.storage.resumeSealing(log) }
        let policy = self.settings.policy
        let limit = current.pageLimit(policy: policy, pageSize: self.settings.pageSize)
        let fresh =
            log == .messages
            ? try await self.storage.leavesToSeal(after: current.lastSeq, limit: limit)
            : try await self.storage.eventLeavesToSeal(after: current.lastSeq, limit: limit)
        var next = current
        let sealed = next.absorb(fresh)
        let now = self.clock()
        let checkpoint =
            next.checkpointDue(nowMicroseconds: now, policy: policy)
            ? try next.checkpoint(nowMicroseconds: now, key: self.key) : nil
        if !sealed.isEmpty || checkpoint != nil {
            try await self.storage.storeSeal(
                SealAppend(leaves: sealed, checkpoint: checkpoint, key: self.key.publicKey),
                log: log
            )
        }
        if let checkpoint {
            next.didStore(checkpoint.checkpoint)
            self.logger.debug(
                "checkpoint signed",
                metadata: [
                    "log": "\(log.rawValue)", "size": "\(checkpoint.checkpoint.treeSize)",
                    "lastSeq": "\(checkpoint.checkpoint.lastSeq)",
                ]
            )
        }
        current = next
        state = current
        return fresh.count == limit
    }
}

/// What a purge pass is asked to do (`liaisonctl retention run`, the daemon's retention service).
public struct PurgeOptions: Sendable, Equatable {
    /// Messages looked at per transaction, and dedupe keys expired per transaction (default 1 000):
    /// each transaction holds its row locks and the hold lock this briefly.
    public var batchSize: Int = 1_000
    /// Expire dedupe keys older than this many seconds; `nil` or 0: leave them (the CLI only
    /// expires keys when told the daemon's `dedupe.windowSeconds`).
    public var dedupeWindowSeconds: Int64?
    /// Count what would be purged and expired, change nothing.
    public var dryRun = false
    /// Who runs it, recorded in `retention_purges.run_by` (`liaisond <node>` or an operator).
    public var runBy: String

    /// Creates the options.
    public init(runBy: String, batchSize: Int = 1_000, dedupeWindowSeconds: Int64? = nil, dryRun: Bool = false) {
        self.runBy = runBy
        self.batchSize = max(1, batchSize)
        self.dedupeWindowSeconds = dedupeWindowSeconds
        self.dryRun = dryRun
    }
}

/// A purge pass in progress, or done: where it is and what it did so far.
///
/// A value moved between steps (``RetentionPurger/step(_:on:)``), each step one short
/// transaction, so the daemon runs a pass as a series of jobs on its retention thread.
public struct PurgePass: Sendable, Equatable {
    /// Which part of the pass comes next.
    public enum Phase: Sendable, Equatable {
        /// Purging messages after ``PurgePass/cursor``.
        case messages
        /// Expiring dedupe keys past the window.
        case dedupeKeys
        /// Nothing left.
        case done
    }

    /// The options it runs with.
    public var options: PurgeOptions
    /// The last seq a signed checkpoint covers: no message above it is purged (it is not yet
    /// proven by a checkpoint, so its purge could not be verified).
    public var ceiling: Int64
    /// The last seq looked at.
    public var cursor: Int64 = 0
    /// The next part.
    public var phase: Phase = .messages
    /// The `retention_purges` row, created by the first batch that changes something.
    public var purgeID: Int64?
    /// Messages looked at (past the shortest keep, up to the ceiling).
    public var scanned: Int64 = 0
    /// Messages purged (or, in a dry run, that would be).
    public var purged: Int64 = 0
    /// Messages past their keep but kept by a hold in force.
    public var held: Int64 = 0
    /// Messages past their keep but not purged because the row no longer matches its sealed leaf
    /// (tampering: purging would destroy the evidence; `audit verify` names them).
    public var mismatched: Int64 = 0
    /// Messages purged per policy pattern.
    public var purgedByPattern: [String: Int64] = [:]
    /// Dedupe keys expired (or that would be).
    public var dedupeKeys: Int64 = 0

    /// Creates a pass (``RetentionPurger/begin(_:on:)`` does, with the ceiling read from the database).
    public init(options: PurgeOptions, ceiling: Int64) {
        self.options = options
        self.ceiling = ceiling
    }

    /// Whether the pass has finished.
    public var isDone: Bool { self.phase == .done }
}

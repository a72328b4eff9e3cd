/// What the daemon's retention service needs from storage (docs/AUDIT.md, "Retention").
///
/// Every call runs on the retention thread's own connection (never the writer's, and never under
/// the append lock), one short transaction per step, with the storage call deadline; all throw
/// only ``StoreError``.
public protocol RetentionPurging: Sendable {
    /// Starts a pass: takes the one-purger-per-database lock.
    ///
    /// - Returns: The pass, or `nil` when another daemon or a `liaisonctl retention run` purges now.
    func beginPurge(_ options: PurgeOptions) async throws -> PurgePass?

    /// Runs one step (one transaction of at most `batchSize` messages or dedupe keys).
    ///
    /// - Throws: `.conflict` when the purge lock was lost (the connection broke).
    func purgeStep(_ pass: PurgePass) async throws -> PurgePass

    /// Ends the pass: records its end, lets the lock go.
    func endPurge(_ pass: PurgePass) async throws

    /// Lets the lock go after a failed step, recording nothing.
    func abandonPurge() async
}

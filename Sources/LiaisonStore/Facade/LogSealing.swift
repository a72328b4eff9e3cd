/// What the log sealer (LiaisonServer's `LogSealer`) needs from storage (docs/AUDIT.md).
///
/// Separate from ``LiaisonStorage`` so that fakes of the publish path need not implement it.
/// Every call runs on the sealer's own libpq thread (never the writer's, so sealing cannot delay
/// an append) and has the storage call deadline; all throw only ``StoreError``.
public protocol LogSealing: Sendable {
    /// Takes or confirms the one-sealer-per-database lock on the sealer's connection.
    ///
    /// - Returns: Whether this daemon is the sealer now.
    func claimSealing() async throws -> Bool

    /// The sealer's state of one log's tree, rebuilt from its newest checkpoint and the leaves
    /// stored after it.
    ///
    /// - Throws: `.invalid` when the stored state is inconsistent (altered audit tables).
    func resumeSealing(_ log: AuditedLog) async throws -> SealerState

    /// Leaf hashes of committed messages after `seq`, ascending, at most `limit`, computed on
    /// the libpq thread (not on the caller's executor).
    ///
    /// Commit order is seq order (invariant 2), so a message that commits later never has a seq
    /// below one already read: reading by seq misses nothing.
    ///
    /// - Throws: `.invalid` for a row whose headers are not a JSON object of strings (never
    ///   sealed: tampering, docs/AUDIT.md).
    func leavesToSeal(after seq: Int64, limit: Int) async throws -> [(seq: Int64, hash: MerkleHash)]

    /// Leaf hashes of committed security events after `id`, ascending, at most `limit`.
    ///
    /// Their inserts are serialised (migration 0010), so they commit in id order: reading by id
    /// misses nothing.
    func eventLeavesToSeal(after id: Int64, limit: Int) async throws -> [(seq: Int64, hash: MerkleHash)]

    /// Stores a sealing step of one log's tree in one transaction.
    ///
    /// - Throws: `.conflict` when the lock was lost or another sealer got ahead (resume and retry).
    func storeSeal(_ seal: SealAppend, log: AuditedLog) async throws
}

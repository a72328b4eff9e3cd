/// Why `audit verify` failed: the first place where the log no longer matches what was sealed.
public struct AuditMismatch: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of mismatch, stable for scripts and tests.
    public enum Kind: String, Sendable {
        /// A row's leaf differs from the sealed one: the row changed after sealing.
        case rowChanged = "row.changed"
        /// A sealed seq has no row: deleted after sealing.
        case rowDeleted = "row.deleted"
        /// A row among sealed ones was never sealed: inserted after sealing.
        case rowInserted = "row.inserted"
        /// `audit_leaves` is not a gap-free sequence of positions in seq order.
        case leavesAltered = "leaves.altered"
        /// The rows do not hash to a checkpoint's signed root (rows changed together with their leaves).
        case rootMismatch = "checkpoint.root"
        /// A checkpoint's signature does not verify with a trusted key.
        case badSignature = "checkpoint.signature"
        /// A purged message's purge record does not match its leaf or did not allow the purge.
        case purgeInvalid = "purge.invalid"
    }

    /// The kind.
    public var kind: Kind
    /// The first seq that no longer matches, when it can be named.
    public var seq: Int64?
    /// A sentence for people.
    public var message: String

    /// Creates a mismatch.
    public init(_ kind: Kind, seq: Int64?, _ message: String) {
        self.kind = kind
        self.seq = seq
        self.message = message
    }

    public var description: String { self.message }
}

/// The pure core of `audit verify`: fed the rows and the sealed leaves in seq order, it recomputes
/// every leaf from its row, rebuilds the tree from those recomputed leaves, and checks each
/// checkpoint's signature and root as the tree reaches its size (docs/AUDIT.md, "Verifying").
///
/// The rows alone decide the tree: a stored leaf only serves to name the first changed seq. A
/// row changed together with its stored leaf is still caught at the next checkpoint, by root.
public struct AuditVerifier: Sendable {
    private var range: CompactRange
    private var pending: [Checkpoint]
    private var nextCheckpoint = 0
    private let keys: [AuditPublicKey]
    private let lastSealedSeq: Int64
    /// The seq after which the last checked checkpoint (or the start) leaves off.
    public private(set) var lastGoodSeq: Int64
    /// Sealed rows checked so far.
    public private(set) var sealedRows: Int64 = 0
    /// Rows after the last sealed seq (not sealed yet).
    public private(set) var unsealedRows: Int64 = 0
    /// Checkpoints whose root and signature matched.
    public private(set) var checkedCheckpoints: [Checkpoint] = []
    /// Sealed messages purged by retention whose purge records checked out (counted in ``sealedRows`` too).
    public private(set) var purgedRows: Int64 = 0
    /// Every legal hold, released ones included: a purge while one covering it was in force fails.
    public var holds: [RetentionHold] = []
    /// The log being verified (it names entries in the messages: `seq 42`, `event 42`).
    public var log: AuditedLog = .messages

    /// Starts at a checkpoint (or at the empty tree).
    ///
    /// - Parameters:
    ///   - start: Where to start: a checkpoint whose frontier is trusted once its signature and
    ///     root check out; `nil` for the start of the log.
    ///   - checkpoints: The checkpoints to check, tree size ascending, all beyond `start`.
    ///   - keys: The trusted public keys.
    ///   - lastSealedSeq: The highest sealed seq; rows above it are counted as not sealed yet.
    /// - Throws: ``AuditMismatch`` when `start` does not verify.
    public init(
        start: StoredCheckpoint?,
        checkpoints: [Checkpoint],
        keys: [AuditPublicKey],
        lastSealedSeq: Int64
    ) throws(AuditMismatch) {
        self.keys = keys
        self.pending = checkpoints
        self.lastSealedSeq = lastSealedSeq
        if let start {
            try Self.checkSignature(start.checkpoint, keys: keys)
            guard start.frontierMatchesRoot else {
                throw AuditMismatch(
                    .rootMismatch,
                    seq: nil,
                    "checkpoint of tree size \(start.checkpoint.treeSize): its stored frontier does not fold to its signed root (audit tables altered); verify from the start of the log"
                )
            }
            self.range = start.frontier
            self.lastGoodSeq = start.checkpoint.lastSeq
            self.checkedCheckpoints = [start.checkpoint]
        } else {
            self.range = CompactRange()
            self.lastGoodSeq = 0
        }
    }

    /// Leaves in the recomputed tree.
    public var treeSize: Int64 { self.range.size }

    /// Feeds one seq: its row, its sealed leaf, or both (the caller merges the two streams by seq).
    ///
    /// - Throws: ``AuditMismatch`` at the first difference.
    public mutating func feed(row: AuditRow?, leaf: SealedLeaf?) throws(AuditMismatch) {
        try self.feed(
            entry: row.map { AuditEntry(seq: $0.leaf.seq, hash: $0.leaf.hash, wellFormed: $0.wellFormed) },
            leaf: leaf
        )
    }

    /// Feeds one entry of the log (a message, or a security event keyed by its id): its row's
    /// recomputed leaf hash, its sealed leaf, or both.
    ///
    /// - Throws: ``AuditMismatch`` at the first difference.
    public mutating func feed(entry row: AuditEntry?, leaf: SealedLeaf?) throws(AuditMismatch) {
        guard let seq = row?.seq ?? leaf?.seq else { return }
        let name = "\(self.log.noun) \(seq)"
        guard let leaf else {
            if seq > self.lastSealedSeq {
                self.unsealedRows += 1
                return
            }
            throw AuditMismatch(
                .rowInserted,
                seq: seq,
                "\(name): this row was never sealed, but later ones were (inserted after sealing)"
            )
        }
        guard leaf.index == self.range.size else {
            throw AuditMismatch(
                .leavesAltered,
                seq: seq,
                "\(name): sealed at position \(leaf.index), expected \(self.range.size) (\(self.log.rawValue) leaves altered)"
            )
        }
        guard let row else {
            guard let purge = leaf.purge else {
                throw AuditMismatch(.rowDeleted, seq: seq, "\(name): the sealed row is missing (deleted after sealing)")
            }
            // Purged by retention: the stored leaf hash enters the tree (the checkpoints' roots
            // still cover it), after its purge record is checked against it.
            if let problem = purge.problem(for: leaf, holds: self.holds) {
                throw AuditMismatch(.purgeInvalid, seq: seq, "\(name): \(problem)")
            }
            self.range.append(leaf.hash)
            self.sealedRows += 1
            self.purgedRows += 1
            try self.checkCheckpoints(at: seq)
            return
        }
        guard row.wellFormed else {
            throw AuditMismatch(
                .rowChanged,
                seq: seq,
                "\(name): its headers are not a JSON object of strings (changed after sealing)"
            )
        }
        guard row.hash == leaf.hash else {
            throw AuditMismatch(
                .rowChanged,
                seq: seq,
                "\(name): the row no longer matches its sealed leaf (changed after sealing)"
            )
        }
        self.range.append(row.hash)
        self.sealedRows += 1
        try self.checkCheckpoints(at: seq)
    }

    /// Checks every checkpoint of the current tree size (a kept one and the stored one may share it).
    private mutating func checkCheckpoints(at seq: Int64) throws(AuditMismatch) {
        while self.nextCheckpoint < self.pending.count, self.pending[self.nextCheckpoint].treeSize == self.range.size {
            let checkpoint = self.pending[self.nextCheckpoint]
            try Self.checkSignature(checkpoint, keys: self.keys)
            guard checkpoint.root == self.range.root, checkpoint.lastSeq == seq else {
                throw AuditMismatch(
                    .rootMismatch,
                    seq: self.lastGoodSeq + 1,
                    "\(self.checkpointName(checkpoint)): the rows do not hash to its signed root; a row after \(self.log.noun) \(self.lastGoodSeq) and up to \(self.log.noun) \(seq) was changed together with its sealed leaf"
                )
            }
            self.checkedCheckpoints.append(checkpoint)
            self.lastGoodSeq = seq
            self.nextCheckpoint += 1
        }
    }

    /// Ends the run.
    ///
    /// - Throws: ``AuditMismatch`` when a checkpoint's size was never reached (rows deleted at
    ///   the end of the log, or a kept checkpoint larger than the log).
    public func finish() throws(AuditMismatch) {
        guard self.nextCheckpoint < self.pending.count else { return }
        let checkpoint = self.pending[self.nextCheckpoint]
        throw AuditMismatch(
            .rowDeleted,
            seq: self.lastGoodSeq + 1,
            "\(self.checkpointName(checkpoint)) covers more rows than the log has: rows after \(self.log.noun) \(self.lastGoodSeq) were deleted"
        )
    }

    /// `checkpoint of tree size 10 (last seq 12)`, or `event checkpoint of tree size 10 (last event 12)`.
    private func checkpointName(_ checkpoint: Checkpoint) -> String {
        let prefix = self.log == .messages ? "" : "event "
        return "\(prefix)checkpoint of tree size \(checkpoint.treeSize) (last \(self.log.noun) \(checkpoint.lastSeq))"
    }

    private static func checkSignature(_ checkpoint: Checkpoint, keys: [AuditPublicKey]) throws(AuditMismatch) {
        guard checkpoint.isSigned(byOneOf: keys) else {
            let known = keys.contains { $0.keyID == checkpoint.keyID }
            throw AuditMismatch(
                .badSignature,
                seq: nil,
                "checkpoint of tree size \(checkpoint.treeSize) (last seq \(checkpoint.lastSeq)): "
                    + (known
                        ? "its signature does not verify with key \(checkpoint.keyID) (forged or altered)"
                        : "signed by key \(checkpoint.keyID), which is not among the trusted keys")
            )
        }
    }
}

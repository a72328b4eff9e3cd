/// A checkpoint with the compact range of the tree at its size (a row of `audit_checkpoints`).
public struct StoredCheckpoint: Sendable, Equatable {
    /// The signed checkpoint.
    public var checkpoint: Checkpoint
    /// The tree's subtree roots at ``Checkpoint/treeSize``.
    public var frontier: CompactRange

    /// Creates the pair.
    public init(checkpoint: Checkpoint, frontier: CompactRange) {
        self.checkpoint = checkpoint
        self.frontier = frontier
    }

    /// Whether the frontier folds to the signed root: only then may anyone build on it.
    public var frontierMatchesRoot: Bool {
        self.frontier.size == self.checkpoint.treeSize && self.frontier.root == self.checkpoint.root
    }
}

/// What one sealing step stores, in one transaction (``AuditLog/store(_:on:)``).
public struct SealAppend: Sendable, Equatable {
    /// New leaves, positions ascending and following the stored ones.
    public var leaves: [SealedLeaf]
    /// A checkpoint over the tree including them, when one is due.
    public var checkpoint: StoredCheckpoint?
    /// The signing key's public half (recorded in `audit_keys` with the first checkpoint it signs).
    public var key: AuditPublicKey

    /// Creates the step.
    public init(leaves: [SealedLeaf], checkpoint: StoredCheckpoint?, key: AuditPublicKey) {
        self.leaves = leaves
        self.checkpoint = checkpoint
        self.key = key
    }
}

/// When the sealer signs a checkpoint (docs/CONFIGURATION.md, `audit.*`).
public struct CheckpointPolicy: Sendable, Equatable {
    /// Sign once this many messages were sealed since the last checkpoint (≥ 1).
    public var messages: Int64
    /// Sign when this many seconds passed since the last checkpoint and something new was sealed.
    public var seconds: Int64

    /// Creates a policy; the defaults sign every 10 000 messages or 60 s.
    public init(messages: Int64 = 10_000, seconds: Int64 = 60) {
        self.messages = max(1, messages)
        self.seconds = max(1, seconds)
    }
}

/// The sealer's position, a pure value: the tree so far, the last sealed seq, the last checkpoint.
///
/// ``LogSealer`` (LiaisonServer) drives it: read leaves after ``lastSeq``, ``absorb(_:)`` them,
/// ask ``checkpointDue(nowMicroseconds:policy:)``, store the result; on any failure it throws
/// the state away and resumes from the database (``PostgresStorage/resumeSealing()``).
public struct SealerState: Sendable, Equatable {
    /// The tree of every sealed leaf.
    public private(set) var range: CompactRange
    /// The seq of the last sealed message (0 before any).
    public private(set) var lastSeq: Int64
    /// Tree size at the last checkpoint (0 before any).
    public private(set) var checkpointSize: Int64
    /// When the last checkpoint was signed, µs since the Unix epoch (0 before any).
    public private(set) var checkpointMicroseconds: Int64
    /// The log this tree seals (named in its checkpoints).
    public var log: AuditedLog = .messages

    /// Creates a state.
    public init(
        range: CompactRange = CompactRange(),
        lastSeq: Int64 = 0,
        checkpointSize: Int64 = 0,
        checkpointMicroseconds: Int64 = 0
    ) {
        self.range = range
        self.lastSeq = lastSeq
        self.checkpointSize = checkpointSize
        self.checkpointMicroseconds = checkpointMicroseconds
    }

    /// Messages to read next: no more than are left before a count-triggered checkpoint, so that
    /// a sealer catching up signs at exact multiples of the policy's count.
    public func pageLimit(policy: CheckpointPolicy, pageSize: Int) -> Int {
        let left = policy.messages - (self.range.size - self.checkpointSize)
        return Int(max(1, min(Int64(pageSize), left)))
    }

    /// Appends leaves (`seq` ascending, all above ``lastSeq``) and returns them with their positions.
    public mutating func absorb(_ leaves: [(seq: Int64, hash: MerkleHash)]) -> [SealedLeaf] {
        var sealed: [SealedLeaf] = []
        sealed.reserveCapacity(leaves.count)
        for leaf in leaves {
            precondition(leaf.seq > self.lastSeq, "leaves must come in seq order after the last sealed one")
            sealed.append(SealedLeaf(seq: leaf.seq, index: self.range.size, hash: leaf.hash))
            self.range.append(leaf.hash)
            self.lastSeq = leaf.seq
        }
        return sealed
    }

    /// Whether a checkpoint is due: something was sealed since the last one, and either the
    /// policy's count is reached or its time passed.
    public func checkpointDue(nowMicroseconds: Int64, policy: CheckpointPolicy) -> Bool {
        let pending = self.range.size - self.checkpointSize
        guard pending > 0 else { return false }
        return pending >= policy.messages || nowMicroseconds - self.checkpointMicroseconds >= policy.seconds * 1_000_000
    }

    /// Signs a checkpoint of the tree as it stands.
    ///
    /// - Throws: ``StoreError`` `.invalid` if signing fails.
    public func checkpoint(nowMicroseconds: Int64, key: AuditSigningKey) throws(StoreError) -> StoredCheckpoint {
        let checkpoint = try Checkpoint.signed(
            treeSize: self.range.size,
            lastSeq: self.lastSeq,
            root: self.range.root,
            timeMicroseconds: nowMicroseconds,
            key: key,
            log: self.log
        )
        return StoredCheckpoint(checkpoint: checkpoint, frontier: self.range)
    }

    /// Records that `checkpoint` was stored.
    public mutating func didStore(_ checkpoint: Checkpoint) {
        self.checkpointSize = checkpoint.treeSize
        self.checkpointMicroseconds = checkpoint.timeMicroseconds
    }

    /// Rebuilds the state from the newest checkpoint and the leaves stored after it.
    ///
    /// - Throws: ``StoreError`` `.invalid` when the checkpoint's frontier does not fold to its
    ///   signed root, or the leaves do not follow it (the audit tables were altered).
    public static func resumed(
        from stored: StoredCheckpoint?,
        leaves: [SealedLeaf],
        log: AuditedLog = .messages
    ) throws(StoreError) -> SealerState {
        var state = SealerState()
        if let stored {
            guard stored.frontierMatchesRoot else {
                throw StoreError(
                    .invalid,
                    "the frontier of checkpoint \(stored.checkpoint.treeSize) does not match its signed root: audit tables altered, run liaisonctl audit verify"
                )
            }
            state = SealerState(
                range: stored.frontier,
                lastSeq: stored.checkpoint.lastSeq,
                checkpointSize: stored.checkpoint.treeSize,
                checkpointMicroseconds: stored.checkpoint.timeMicroseconds
            )
        }
        state.log = log
        for leaf in leaves {
            guard leaf.index == state.range.size, leaf.seq > state.lastSeq else {
                throw StoreError(
                    .invalid,
                    "audit_leaves: seq \(leaf.seq) at position \(leaf.index) does not follow position \(state.range.size - 1) (seq \(state.lastSeq))"
                )
            }
            _ = state.absorb([(leaf.seq, leaf.hash)])
        }
        return state
    }
}

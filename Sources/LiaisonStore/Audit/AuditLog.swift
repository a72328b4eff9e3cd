public import Postgres

/// The SQL of the tamper-evidence tables of migration 0007 (docs/AUDIT.md): reading rows as
/// leaves, storing sealed leaves and checkpoints, and the one-sealer lock.
public struct AuditLog: Sendable {
    /// The log whose tables this accessor reads and writes.
    public let log: AuditedLog

    /// Creates the accessor for one log's tables (the message log's by default).
    public init(_ log: AuditedLog = .messages) {
        self.log = log
    }

    /// The columns of ``rows(after:through:limit:on:)``. Headers come as the `jsonb` value's
    /// text, taken apart in Swift (``FlatJSONObject``; PostgreSQL's `jsonb_each_text` subqueries
    /// were half of the database's sealing work), never as `k=v` text that a value holding `=`
    /// or a space could make ambiguous. The publication time is read exactly, in microseconds
    /// (`extract` returns numeric since PostgreSQL 14).
    private static let rowColumns = """
        SELECT seq, topic, account, (extract(epoch FROM published_at) * 1000000)::bigint,
            headers::text, octet_length(payload)::bigint, sha256(payload)
        FROM messages
        """

    /// Reads message rows with `after < seq ≤ through`, ascending, at most `limit`.
    ///
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    public func rows(
        after: Int64,
        through: Int64 = .max,
        limit: Int,
        on connection: Connection
    ) throws(StoreError)
        -> [AuditRow]
    {
        try self.decodeRows {
            try connection.query(
                Self.rowColumns + " WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3",
                [after.postgresBind, through.postgresBind, Int64(limit).postgresBind]
            )
        }
    }

    /// Reads the message rows of the given seqs, ascending (seqs without a row are left out).
    ///
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    public func rows(seqs: [Int64], on connection: Connection) throws(StoreError) -> [AuditRow] {
        try self.decodeRows {
            try connection.query(Self.rowColumns + " WHERE seq = ANY($1) ORDER BY seq", [seqs.postgresBind])
        }
    }

    private func decodeRows(_ query: () throws -> QueryResult) throws(StoreError) -> [AuditRow] {
        try storeCall {
            let result = try query()
            var rows: [AuditRow] = []
            rows.reserveCapacity(result.rowCount)
            for row in 0..<result.rowCount {
                // Not a flat object of strings: liaisond never writes that, so the row is
                // reported (verify) or left unsealed (the sealer), whatever its leaf would be.
                let headers = FlatJSONObject.parse(try result.decode(String.self, row: row, column: 4))
                let leaf = AuditLeaf(
                    seq: try result.decode(Int64.self, row: row, column: 0),
                    topic: try result.decode(String.self, row: row, column: 1),
                    account: try result.decode(String.self, row: row, column: 2),
                    publishedMicroseconds: try result.decode(Int64.self, row: row, column: 3),
                    headers: headers ?? [],
                    payloadLength: try result.decode(Int64.self, row: row, column: 5),
                    payloadHash: try result.decode([UInt8].self, row: row, column: 6)
                )
                rows.append(AuditRow(leaf: leaf, wellFormed: headers != nil))
            }
            return rows
        }
    }

    /// Reads sealed leaves with `after < seq ≤ through`, ascending by seq, at most `limit`.
    ///
    /// - Throws: ``StoreError`` `.unavailable`, `.database`, or `.invalid` for a hash that is not 32 bytes.
    public func leaves(
        after: Int64,
        through: Int64 = .max,
        limit: Int,
        on connection: Connection
    ) throws(StoreError)
        -> [SealedLeaf]
    {
        try self.decodeLeaves {
            try connection.query(
                self.leafColumns + " WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3",
                [after.postgresBind, through.postgresBind, Int64(limit).postgresBind]
            )
        }
    }

    /// Reads the sealed leaves of the given seqs, ascending by seq (seqs never sealed are left out).
    ///
    /// - Throws: ``StoreError`` `.unavailable`, `.database` or `.invalid`.
    public func leaves(seqs: [Int64], on connection: Connection) throws(StoreError) -> [SealedLeaf] {
        try self.decodeLeaves {
            try connection.query(self.leafColumns + " WHERE seq = ANY($1) ORDER BY seq", [seqs.postgresBind])
        }
    }

    /// Reads sealed leaves from position `index` on, ascending by position, at most `limit`.
    ///
    /// - Throws: ``StoreError`` `.unavailable`, `.database` or `.invalid`.
    public func leaves(
        fromIndex index: Int64,
        limit: Int,
        on connection: Connection
    ) throws(StoreError)
        -> [SealedLeaf]
    {
        try self.decodeLeaves {
            try connection.query(
                self.leafColumns + " WHERE leaf_index >= $1 ORDER BY leaf_index LIMIT $2",
                [index.postgresBind, Int64(limit).postgresBind]
            )
        }
    }

    /// The columns of a sealed leaf, with the purge record of a purged message (migration 0010;
    /// security events are never purged).
    private var leafColumns: String {
        let purge =
            self.log == .messages
            ? "purge_id, (extract(epoch FROM purged_at) * 1000000)::bigint, purge_pattern, purge_keep_days, purged_leaf"
            : "NULL::bigint, NULL::bigint, NULL::text, NULL::int, NULL::bytea"
        return "SELECT seq, leaf_index, hash, \(purge) FROM \(self.log.leavesTable)"
    }

    private func decodeLeaves(_ query: () throws -> QueryResult) throws(StoreError) -> [SealedLeaf] {
        let decoded = try storeCall {
            let result = try query()
            return try (0..<result.rowCount).map { row in
                let purge = try result.decode(Int64?.self, row: row, column: 3).map { id in
                    PurgeRecord(
                        purgeID: id,
                        purgedAtMicroseconds: try result.decode(Int64.self, row: row, column: 4),
                        pattern: try result.decode(String.self, row: row, column: 5),
                        keepDays: Int(try result.decode(Int64.self, row: row, column: 6)),
                        encoding: try result.decode([UInt8].self, row: row, column: 7)
                    )
                }
                return (
                    try result.decode(Int64.self, row: row, column: 0),
                    try result.decode(Int64.self, row: row, column: 1),
                    try result.decode([UInt8].self, row: row, column: 2),
                    purge
                )
            }
        }
        var leaves: [SealedLeaf] = []
        leaves.reserveCapacity(decoded.count)
        for (seq, index, bytes, purge) in decoded {
            guard let hash = MerkleHash(bytes: bytes) else {
                throw StoreError(
                    .invalid,
                    "\(self.log.leavesTable): the hash of \(self.log.noun) \(seq) is not 32 bytes"
                )
            }
            leaves.append(SealedLeaf(seq: seq, index: index, hash: hash, purge: purge))
        }
        return leaves
    }

    /// Takes the sealer's session advisory lock, or confirms this session holds it already.
    ///
    /// A session lock, not a transaction one: it stays with the sealer's connection between
    /// steps and goes away by itself when that connection breaks or the daemon dies, so another
    /// daemon's sealer takes over (docs/AUDIT.md, "One sealer").
    ///
    /// - Returns: Whether this session holds the lock now.
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    public func claimSealLock(on connection: Connection) throws(StoreError) -> Bool {
        try storeCall {
            try connection.query(
                "SELECT CASE WHEN \(Self.holdsLock) THEN true ELSE pg_try_advisory_lock($1) END",
                [Schema.sealLockKey.postgresBind]
            ).decode(Bool.self, row: 0, column: 0)
        }
    }

    /// Whether this session holds the seal lock (a bigint advisory key is classid = high 32 bits,
    /// objid = low 32 bits, objsubid = 1 in `pg_locks`).
    private static let holdsLock = """
        EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
            AND objsubid = 1 AND classid::bigint = ($1::bigint >> 32) AND objid::bigint = ($1::bigint & 4294967295))
        """

    /// The newest checkpoint and the compact range stored with it, or `nil` before the first.
    ///
    /// - Throws: ``StoreError`` `.unavailable`, `.database` or `.invalid` (a malformed row).
    public func latestCheckpoint(on connection: Connection) throws(StoreError) -> StoredCheckpoint? {
        try self.checkpoints(where: "true ORDER BY tree_size DESC LIMIT 1", [], on: connection).first
    }

    /// The newest checkpoint whose last seq is below `seq`: where verification of `seq…` starts.
    ///
    /// - Throws: ``StoreError`` `.unavailable`, `.database` or `.invalid`.
    public func checkpoint(before seq: Int64, on connection: Connection) throws(StoreError) -> StoredCheckpoint? {
        try self.checkpoints(where: "last_seq < $1 ORDER BY tree_size DESC LIMIT 1", [seq.postgresBind], on: connection)
            .first
    }

    /// Checkpoints with `tree_size > afterSize` and `last_seq ≤ throughSeq`, ascending.
    ///
    /// - Throws: ``StoreError`` `.unavailable`, `.database` or `.invalid`.
    public func checkpoints(
        afterSize: Int64,
        throughSeq: Int64,
        on connection: Connection
    ) throws(StoreError)
        -> [StoredCheckpoint]
    {
        try self.checkpoints(
            where: "tree_size > $1 AND last_seq <= $2 ORDER BY tree_size",
            [afterSize.postgresBind, throughSeq.postgresBind],
            on: connection
        )
    }

    private func checkpoints(
        where condition: String,
        _ binds: [PostgresBind],
        on connection: Connection
    )
        throws(StoreError) -> [StoredCheckpoint]
    {
        let rows = try storeCall {
            let result = try connection.query(
                "SELECT tree_size, last_seq, root, signed_at_us, key_id, signature, frontier FROM \(self.log.checkpointsTable) WHERE "
                    + condition,
                binds
            )
            return try (0..<result.rowCount).map { row in
                (
                    size: try result.decode(Int64.self, row: row, column: 0),
                    last: try result.decode(Int64.self, row: row, column: 1),
                    root: try result.decode([UInt8].self, row: row, column: 2),
                    time: try result.decode(Int64.self, row: row, column: 3),
                    key: try result.decode(String.self, row: row, column: 4),
                    signature: try result.decode([UInt8].self, row: row, column: 5),
                    frontier: try result.decode([UInt8].self, row: row, column: 6)
                )
            }
        }
        var out: [StoredCheckpoint] = []
        for row in rows {
            guard let root = MerkleHash(bytes: row.root),
                let frontier = CompactRange(size: row.size, serialized: row.frontier)
            else {
                throw StoreError(
                    .invalid,
                    "\(self.log.checkpointsTable): the row of tree size \(row.size) is malformed"
                )
            }
            let checkpoint = Checkpoint(
                treeSize: row.size,
                lastSeq: row.last,
                root: root,
                timeMicroseconds: row.time,
                keyID: row.key,
                signature: row.signature,
                log: self.log
            )
            out.append(StoredCheckpoint(checkpoint: checkpoint, frontier: frontier))
        }
        return out
    }

    /// Stores sealed leaves and, when given, a checkpoint, in one transaction, as the holder of
    /// the seal lock.
    ///
    /// - Parameters:
    ///   - seal: The leaves (their positions must follow the stored ones without a gap) and the checkpoint.
    ///   - connection: The sealer's connection (the one that claimed the lock).
    /// - Throws: ``StoreError`` `.conflict` when this session no longer holds the lock or the
    ///   positions do not follow on (another sealer got ahead: reload and retry); `.unavailable`
    ///   or `.database` otherwise. Nothing is stored then.
    public func store(_ seal: SealAppend, on connection: Connection) throws(StoreError) {
        guard !seal.leaves.isEmpty || seal.checkpoint != nil else { return }
        let outcome: String? = try storeCall {
            try connection.transaction { connection -> String? in
                // synchronous_commit off for this transaction only: leaves and checkpoints are
                // derived from committed rows, so a crash that loses the last few of them costs a
                // reseal at restart, never a message; and whatever depends on them (a purge, which
                // commits synchronously) flushes the WAL up to them first (docs/AUDIT.md, "The sealer").
                let state = try connection.query(
                    "SELECT \(Self.holdsLock), coalesce(max(leaf_index) + 1, 0), "
                        + "set_config('synchronous_commit', 'off', true) FROM \(self.log.leavesTable)",
                    [Schema.sealLockKey.postgresBind]
                )
                guard try state.decode(Bool.self, row: 0, column: 0) else { return "the seal lock is not held" }
                let next = try state.decode(Int64.self, row: 0, column: 1)
                if let first = seal.leaves.first, first.index != next {
                    return "leaf \(first.index) does not follow the \(next) stored"
                }
                if !seal.leaves.isEmpty {
                    try connection.query(
                        """
                        INSERT INTO \(self.log.leavesTable) (seq, leaf_index, hash)
                        SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bytea[])
                        """,
                        [
                            seal.leaves.map(\.seq).postgresBind, seal.leaves.map(\.index).postgresBind,
                            seal.leaves.map(\.hash.bytes).postgresBind,
                        ]
                    )
                }
                if let stored = seal.checkpoint {
                    try self.insert(stored, key: seal.key, on: connection)
                }
                return nil
            }
        }
        if let outcome { throw StoreError(.conflict, "sealing: \(outcome)") }
    }

    private func insert(_ stored: StoredCheckpoint, key: AuditPublicKey, on connection: Connection) throws {
        let checkpoint = stored.checkpoint
        try connection.query(
            "INSERT INTO audit_keys (key_id, public_key) VALUES ($1, $2) ON CONFLICT (key_id) DO NOTHING",
            [key.keyID.postgresBind, key.raw.postgresBind]
        )
        try connection.query(
            """
            INSERT INTO \(self.log.checkpointsTable) (tree_size, last_seq, root, signed_at_us, key_id, signature, frontier)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            """,
            [
                checkpoint.treeSize.postgresBind, checkpoint.lastSeq.postgresBind, checkpoint.root.bytes.postgresBind,
                checkpoint.timeMicroseconds.postgresBind, checkpoint.keyID.postgresBind,
                checkpoint.signature.postgresBind, stored.frontier.serialized.postgresBind,
            ]
        )
    }

    /// The public keys that signed checkpoints, oldest first.
    ///
    /// - Throws: ``StoreError`` `.unavailable`, `.database` or `.invalid`.
    public func keys(on connection: Connection) throws(StoreError) -> [AuditPublicKey] {
        let raws = try storeCall {
            let result = try connection.query("SELECT public_key FROM audit_keys ORDER BY created_at, key_id")
            return try (0..<result.rowCount).map { try result.decode([UInt8].self, row: $0, column: 0) }
        }
        var keys: [AuditPublicKey] = []
        for raw in raws { keys.append(try AuditPublicKey(raw: raw)) }
        return keys
    }
}
